"""Property: whatever sequence of charges and duplicate submissions arrives, in whatever order,
every user's cached balance equals the sum of their ledger, and each paid payment is credited once."""

from __future__ import annotations

import asyncio

import httpx
from hypothesis import HealthCheck, given, settings, strategies as st

from services.auth import AuthConfig, AuthService
from services.charging import ChargeConfig, ChargeService
from services.db import Database
from services.errors import DomainError
from services.gateways.portone.v1 import PortOneV1Client
from tests.conftest import SandboxControl, count_rows, ledger_invariants, wipe_tables

# A step: (user index, payment index, how many times it is submitted at once)
steps = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 5), st.integers(1, 4)), min_size=1, max_size=12
)
amounts = st.lists(st.sampled_from([1000, 5000, 10000, 777]), min_size=6, max_size=6)


async def _scenario(database_url: str, shared: SandboxControl, plan: list, payment_amounts: list) -> None:
    await wipe_tables(database_url)
    db = Database.from_url(database_url)
    # Each example runs on its own event loop: its own HTTP clients too.
    sandbox = SandboxControl(shared.base_url, shared.config)
    async with httpx.AsyncClient() as http, sandbox.http:
        try:
            auth = AuthService(db, AuthConfig("k" * 40, 600, 600, 1, 1024, 1))
            users = [(await auth.create_user(f"u{i}@example.com", "password123", f"u{i}")).id for i in range(3)]
            cfg = sandbox.config
            provider = PortOneV1Client(http, base_url=f"{sandbox.base_url}/v1", imp_key=cfg.imp_key,  # type: ignore[attr-defined]
                                       imp_secret=cfg.imp_secret)  # type: ignore[attr-defined]
            charging = ChargeService(db, provider, ChargeConfig(None, 100, 2_000_000))
            payments = [(await sandbox.pay(a))["imp_uid"] for a in payment_amounts]
            owner: dict[str, str] = {}
            for user_index, payment_index, copies in plan:
                imp_uid, user_id = payments[payment_index], users[user_index]
                results = await asyncio.gather(
                    *(charging.claim(user_id, imp_uid) for _ in range(copies)), return_exceptions=True
                )
                for r in results:
                    if isinstance(r, DomainError):
                        assert r.code == "PAYMENT_ALREADY_CLAIMED" and owner.get(imp_uid) not in (None, user_id)
                    else:
                        assert not isinstance(r, BaseException), r
                        owner.setdefault(imp_uid, user_id)
                        assert owner[imp_uid] == user_id
            balances = await ledger_invariants(database_url)
            for u in users:
                expected = sum(payment_amounts[payments.index(p)] for p, o in owner.items() if o == u)
                assert balances[u] == expected
            assert await count_rows(database_url, "SELECT COUNT(*) FROM point_transactions") == len(owner)
        finally:
            await db.dispose()


async def test_random_charges_keep_the_ledger_consistent(clean_db: str, sandbox: SandboxControl) -> None:
    loop = asyncio.get_running_loop()

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(plan=steps, payment_amounts=amounts)
    def check(plan: list, payment_amounts: list) -> None:
        # Hypothesis drives examples synchronously; run each one on a fresh loop in a worker thread.
        asyncio.run(_scenario(clean_db, sandbox, plan, payment_amounts))

    await loop.run_in_executor(None, check)
