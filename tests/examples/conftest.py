"""Fixtures of the example apps' browser tests (helpers in support.py)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.api.test_demo_browser import run_async
from tests.browser import ARTIFACTS, launch_chromium
from tests.conftest import wipe_tables
from tests.examples.support import (
    EXAMPLES, TIMEOUT_MS, RestartableApi, cross_site_build, ensure_built, shot, vite_preview,
)


@pytest.fixture
def api_server(database_url: str) -> Iterator[RestartableApi]:
    """The API in sandbox mode on 127.0.0.1, serving on the URL it believes is its own."""
    run_async(wipe_tables(database_url))
    server = RestartableApi(database_url)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def api(api_server: RestartableApi) -> str:
    return api_server.url


@pytest.fixture
def preview(request: pytest.FixtureRequest, api: str) -> Iterator[str]:
    """`vite preview` of the app's dist/ (parametrized indirectly: "react" or "vue"), proxying
    /graphql, /payments/complete and /sandbox to the API."""
    app_dir = EXAMPLES / request.param
    ensure_built(app_dir)
    ARTIFACTS.mkdir(exist_ok=True)
    env = {**os.environ, "POINTCHARGE_API_URL": api}
    with vite_preview(app_dir, env, ARTIFACTS / f"example-{request.param}-vite.log") as url:
        yield url


@pytest.fixture
def cross_site_preview(request: pytest.FixtureRequest, api: str, tmp_path: Path) -> Iterator[str]:
    """The app (parametrized indirectly) built to call the API at 127.0.0.1 directly and opened on
    localhost: another site, so the API's SameSite=Lax refresh cookie never comes back."""
    app_dir = EXAMPLES / request.param
    ensure_built(app_dir)  # node_modules
    out = tmp_path / "dist"
    env = cross_site_build(app_dir, api, out)
    with vite_preview(app_dir, env, tmp_path / "vite.log", "--outDir", str(out)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    yield from launch_chromium()


# Whether the test's own body failed, for page_of's teardown (which runs after the call's report).
CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed


@pytest.fixture
def page_of(request: pytest.FixtureRequest, browser) -> Iterator[Callable[..., object]]:
    """Opens pages (one browser context each, Korean locale) of the app the test is parametrized
    with; the test fails on any page error, and when it fails each page is photographed as
    test-artifacts/example-<app>-<failure_shot>.png."""
    from playwright.sync_api import expect

    params = request.node.callspec.params
    app = params.get("preview") or params.get("cross_site_preview")
    opened: list[tuple[object, object, str]] = []
    errors: list[str] = []

    def open_page(width: int = 800, height: int = 900, failure_shot: str = "failure"):
        ctx = browser.new_context(viewport={"width": width, "height": height}, locale="ko-KR")
        ctx.set_default_timeout(TIMEOUT_MS)
        page = ctx.new_page()
        opened.append((ctx, page, failure_shot))
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    expect.set_options(timeout=TIMEOUT_MS)
    yield open_page
    for ctx, page, failure_shot in opened:
        if request.node.stash.get(CALL_FAILED, False):
            shot(page, app, failure_shot)
        ctx.close()
    assert errors == []
