"""정기결제 (issue 25): saved cards (billing keys) and charges with them, on top of the payments core.

- cards.py               preparePaymentCard / registerPaymentCard / fetchPaymentCards / deletePaymentCard
- card_charge.py         createPointTransactionOfLoadingWithCard: one order, charged once, credited once
- card_claims.py         the card_charges rows that make it exactly-once (claims, leases, fences)
- subscriptions.py       createPointSubscription / cancelPointSubscription / fetchPointSubscriptions
- cycles.py              charging one claimed subscription's due cycle (attempt rows, outcomes)
- subscription_claims.py the schedule (billing day, month-end clamps) and the runner's claims
- runner.py              `pointcharge billing run` and serve's periodic task: pluggable jobs
- attempt_reconcile.py   `pointcharge reconcile` over subscription attempts left open

Not built yet: PortOne V2 and Bootpay keys, auto top-up (docs/BILLING.md).
"""
