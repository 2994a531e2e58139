"""The control API's ``discount`` knob (issue 23 #9): a V2 payment a promotion paid part of, as
PortOne's V2 ``PaymentAmount`` models it (``total``, ``discount``, ``paid`` = total − discount)."""

from __future__ import annotations

from sandbox.portone.config import SandboxConfig
from tests.sandbox.conftest import create


async def test_a_v2_payment_with_a_discount_reports_what_was_paid(http) -> None:
    paid = await create(http, amount=10_000, version="v2", discount=1_500)
    assert paid["amount"]["total"] == 10_000
    assert paid["amount"]["discount"] == 1_500 and paid["amount"]["paid"] == 8_500
    # the REST API says the same
    secret = SandboxConfig().v2_api_secret
    fetched = (await http.get(f"/v2/payments/{paid['id']}", headers={"Authorization": f"PortOne {secret}"})).json()
    assert fetched["amount"] == paid["amount"]
    # without one, paid is the total
    plain = await create(http, amount=10_000, version="v2")
    assert plain["amount"]["discount"] == 0 and plain["amount"]["paid"] == 10_000


async def test_discount_is_v2_only_and_less_than_the_amount(http) -> None:
    for bad in ({"amount": 1000, "discount": 100}, {"amount": 1000, "version": "v2", "discount": 1000},
                {"amount": 1000, "version": "v2", "discount": -1}, {"amount": 1000, "version": "v2", "discount": "x"}):
        r = await http.post("/_control/payments", json=bad)
        assert r.status_code == 400 and r.json()["error"]["message"], bad
