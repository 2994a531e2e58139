"""The sandbox is documented where people look (issue 27): an index at /sandbox/portone/ lists every
control route (walked from the app, so a new route without a description fails), docs/SANDBOX.md
names every one, and GraphiQL opens on the sign-up → sandbox payment → charge → history walk."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from starlette.routing import Route

from sandbox.portone.app import create_app as create_sandbox
from tests.api.test_demo_browser import browser, context, demo_url  # noqa: F401 - fixtures

DOC = Path(__file__).resolve().parents[2] / "docs" / "SANDBOX.md"


def control_routes() -> list[str]:
    """"METHOD /_control/…" for every control route the sandbox app really has."""
    found = []
    for route in create_sandbox().routes:
        if isinstance(route, Route) and route.path.startswith("/_control"):
            found += [f"{method} {route.path}" for method in sorted((route.methods or set()) - {"HEAD"})]
    return found


def test_control_routes_are_walked() -> None:
    routes = control_routes()
    assert "POST /_control/payments/{id}/deposit" in routes and "POST /_control/reset" in routes
    assert len(routes) == len(set(routes)) >= 17


async def test_index_lists_every_control_route_with_a_description_sdk_config_and_doc(client: httpx.AsyncClient) -> None:
    # when the index of the mounted sandbox is opened
    page = await client.get("/sandbox/portone/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    # then every control route has a row with a description and a curl example
    for route in control_routes():
        row = re.search(rf'<tr data-route="{re.escape(route)}">(.*?)</tr>', html, re.S)
        assert row is not None, f"{route} is not on /sandbox/portone/"
        description = re.sub(r"<pre>.*?</pre>|<[^>]+>", "", row.group(1), flags=re.S).replace(route.split()[0], "")
        assert len(description.strip()) > len(route.split()[1]) + 5, f"{route} has no description"
        assert "curl -s" in row.group(1)
    # and the SDKs, the config and the doc (served offline from the checkout)
    assert "http://testserver/sandbox/portone/iamport.js" in html
    assert "http://testserver/sandbox/portone/browser-sdk.js" in html
    assert "imp00000000" in html and "sandbox_imp_key" in html and "state_path" in html
    assert 'href="http://testserver/sandbox/portone/docs"' in html
    doc = await client.get("/sandbox/portone/docs")
    assert doc.status_code == 200 and doc.text == DOC.read_text(encoding="utf-8")


def test_doc_mentions_every_control_route() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [route for route in control_routes() if route not in text]
    assert missing == [], f"docs/SANDBOX.md does not describe {missing}"


async def test_graphiql_opens_on_the_sandbox_walkthrough(client: httpx.AsyncClient) -> None:
    page = (await client.get("/graphql", headers={"accept": "text/html"})).text
    walk = page[page.index("const EXAMPLE_QUERY"):]
    walk = walk[:walk.index("`;")]
    # the comment walks through the steps in the order a newcomer runs them
    steps = ["1. SignUp", "2. Prepare", "3. ", "/_control/payments", "4. Charge", "5. History"]
    positions = [walk.index(step) for step in steps]
    assert positions == sorted(positions), positions
    # and each GraphQL step is an operation to run
    for operation in ["mutation SignUp", "mutation Login", "mutation Prepare", "createPointTransactionOfLoading(impUid:",
                      "query History", "fetchPointTransactions"]:
        assert operation in walk
    assert "Welcome to GraphiQL" not in page


def test_graphiql_shows_the_walkthrough_and_the_index_renders_in_a_browser(context, demo_url) -> None:
    """The template literal really runs (its ${…} and backslashes): GraphiQL shows the walk with
    this server's sandbox URL in its curl line."""
    from playwright.sync_api import expect

    from tests.api.test_demo_browser import screenshot

    base, _ = demo_url
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(base + "/graphql")
    editor = page.locator(".graphiql-query-editor")
    expect(editor).to_contain_text("mutation SignUp")
    expect(editor).to_contain_text(f"{base}/sandbox/portone/_control/payments")
    screenshot(page, "graphiql-walkthrough")
    page.goto(base + "/sandbox/portone/")
    expect(page.locator("#control tr[data-route]")).to_have_count(len(control_routes()))
    screenshot(page, "sandbox-index")
    assert errors == []
