"""정기결제 (issue 25): saved cards (billing keys) and charges with them, on top of the payments core.

- cards.py        preparePaymentCard / registerPaymentCard / fetchPaymentCards / deletePaymentCard
- card_charge.py  createPointTransactionOfLoadingWithCard: one order, charged once, credited once
- card_claims.py  the card_charges rows that make it exactly-once (claims, leases, fences)
- auto_topup.py   auto top-up after purchases (off unless POINTCHARGE_AUTO_TOPUP_ENABLED), run_due
- topup_rows.py   its rows: the monthly cap's counter, one top-up in flight per user, claims

Not built yet: subscriptions and their runner, PortOne V2 and Bootpay keys (docs/BILLING.md).
"""
