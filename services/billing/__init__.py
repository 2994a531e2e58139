"""정기결제 (issue 25): saved cards (billing keys) and charges with them, on top of the payments core.

- cards.py        preparePaymentCard / registerPaymentCard / fetchPaymentCards / deletePaymentCard
- cards_v2.py     PortOne V2 registration (requestIssueBillingKey's issueId, the billingKey bound to the caller)
- card_charge.py  createPointTransactionOfLoadingWithCard: one order, charged once, credited once
- card_claims.py  the card_charges rows that make it exactly-once (claims, leases, fences)

Not built yet: subscriptions and their runner, Bootpay keys, auto top-up (docs/BILLING.md).
"""
