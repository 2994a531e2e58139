"""정기결제 (issue 25): saved cards (billing keys) and charges with them, on top of the payments core.

- cards.py               preparePaymentCard / registerPaymentCard / fetchPaymentCards / deletePaymentCard
- cards_v2.py            PortOne V2 registration (requestIssueBillingKey's issueId, the billingKey bound to the caller)
- bootpay_cards.py       Bootpay registration (requestSubscription's receipt_id → the billing_key)
- card_charge.py         createPointTransactionOfLoadingWithCard: one order, charged once, credited once
- card_claims.py         the card_charges rows that make it exactly-once (claims, leases, fences)
- subscriptions.py       createPointSubscription / cancelPointSubscription / fetchPointSubscriptions
- cycles.py              charging one claimed subscription's due cycle (attempt rows, outcomes)
- subscription_claims.py the schedule (billing day, month-end clamps) and the runner's claims
- runner.py              `pointcharge billing run` and serve's periodic task: pluggable jobs
- attempt_reconcile.py   `pointcharge reconcile` over subscription attempts left open
- auto_topup.py          auto top-up after purchases (off unless POINTCHARGE_AUTO_TOPUP_ENABLED), run_due
- topup_rows.py          its rows: the monthly cap's counter, one top-up in flight per user, claims
"""
