"""Python function calls per PortOne charge: a measure of the charge path's CPU work that a shared
machine's load does not move (timings there move by ±20 % between runs; these by about 0.5 %).

    cd CHECKOUT && .venv/bin/python /work/wt/bench/bench/calls.py [charges]

Runs from any checkout (its own code: the checkout is put first on sys.path), so that an older
commit without this file can be measured. The API in-process (ASGI, as bench/profile.py does),
SQLite, against a standalone PortOne sandbox; after 30 warm-up charges, ``sys.setprofile`` counts
the calls of the event loop's thread (API, drivers' callbacks, the in-process HTTP client alike)
over ``charges`` first-time charges of one user. SQLite's statements run in aiosqlite's thread and
are not counted (the statement-count guard counts them).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import uuid
from pathlib import Path

# The checkout under test instead of this file's directory (whose profile.py would shadow the stdlib's).
sys.path[0] = str(Path.cwd())

from bench import procs  # noqa: E402


async def count(sandbox: str, charges: int) -> dict[str, float]:
    import httpx
    from asgi_lifespan import LifespanManager

    from api.app import create_app
    from bench.loadgen import CHARGE_MUTATION
    from services.settings import Settings

    workdir = Path(tempfile.mkdtemp(prefix="calls-"))
    env = procs.api_env(f"sqlite:///{workdir / 'api.db'}", sandbox)
    root = Path.cwd()
    os.chdir(workdir)  # the mounted sandboxes' state files land here, not in the checkout
    settings = Settings(_env_file=None, **{k.removeprefix("POINTCHARGE_").lower(): v for k, v in env.items()})
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            email = f"calls-{uuid.uuid4().hex[:8]}@bench.example.com"
            await client.post("/graphql", json={
                "query": "mutation($i: CreateUserInput!){ createUser(createUserInput: $i){ _id } }",
                "variables": {"i": {"email": email, "password": "benchpassword123", "name": "콜"}}})
            login = await client.post("/graphql", json={
                "query": "mutation($e: String!, $p: String!){ loginUser(email: $e, password: $p){ accessToken } }",
                "variables": {"e": email, "p": "benchpassword123"}})
            token = login.json()["data"]["loginUser"]["accessToken"]
            uids = await procs.create_payments(sandbox, charges + 30)
            counts = {"call": 0, "c_call": 0}

            def hook(frame, event, arg):  # noqa: ANN001
                if event in counts:
                    counts[event] += 1

            for i, uid in enumerate(uids):
                if i == 30:
                    sys.setprofile(hook)
                r = await client.post("/graphql", json={"query": CHARGE_MUTATION, "variables": {"impUid": uid}},
                                      headers={"Authorization": f"Bearer {token}"})
                body = r.json()
                assert not body.get("errors"), body
            sys.setprofile(None)
    n = len(uids) - 30
    return {"checkout": str(root), "charges": n, "python_calls_per_charge": round(counts["call"] / n, 1),
            "c_calls_per_charge": round(counts["c_call"] / n, 1)}


def main() -> None:
    charges = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    workdir = Path(tempfile.mkdtemp(prefix="calls-sandbox-"))
    sandbox, base = procs.start_sandbox(workdir)
    try:
        print(json.dumps(asyncio.run(count(base, charges))))
    finally:
        sandbox.stop()


if __name__ == "__main__":
    main()
