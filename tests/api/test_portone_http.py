"""The HTTP client every PortOne call shares (api/app.py ``portone_http``)."""

from __future__ import annotations

import httpx

from api.app import CookielessClient, portone_http
from tests.conftest import make_settings


async def test_a_cookie_from_one_answer_never_rides_on_the_next_call() -> None:
    # given the shared client, and a PortOne (or a load balancer before it) that sets a cookie
    seen: list[str | None] = []

    def portone(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        return httpx.Response(200, json={"code": 0}, headers={"set-cookie": "AWSALB=user-a; Path=/"})

    async with CookielessClient(transport=httpx.MockTransport(portone)) as client:
        # when two calls are made, as for two different users
        first = await client.get("https://api.iamport.kr/payments/imp_1")
        await client.get("https://api.iamport.kr/payments/imp_2")
        # then the answer still shows its header, but nothing was kept or sent back
        assert first.headers["set-cookie"].startswith("AWSALB=")
        assert seen == [None, None]
        assert not client.cookies


async def test_the_app_builds_the_cookieless_client(tmp_path) -> None:  # type: ignore[no-untyped-def]
    client = portone_http(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"))
    try:
        assert isinstance(client, CookielessClient)
    finally:
        await client.aclose()
