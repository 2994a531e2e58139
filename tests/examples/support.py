"""What the example apps' browser tests share: building and serving an app (`vite preview`), an API
that can be stopped and started again on its port, and the steps and checks every scenario uses.
The fixtures built on these are in conftest.py."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from tests.browser import ARTIFACTS, unavailable
from tests.conftest import make_settings
from tests.servers import reserve_socket, run_server, socket_url, stop_process

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
APPS = ["react", "vue"]
TIMEOUT_MS = 15_000
PHONE = {"width": 375, "height": 812}


def _newest_source(app_dir: Path) -> float:
    paths = [p for p in (app_dir / "src").rglob("*") if p.is_file()]
    paths += [app_dir / n for n in ("index.html", "package-lock.json", "vite.config.ts", ".env")]
    return max(p.stat().st_mtime for p in paths if p.exists())


def ensure_built(app_dir: Path) -> None:
    """`npm ci` when node_modules is missing, `npm run build` when dist/ is missing or stale
    (.ci/run has done both already; a developer's checkout may not have)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        unavailable("Node.js and npm are not installed (the example apps need them)")
    def npm(*args: str) -> None:
        done = subprocess.run(["npm", *args], cwd=app_dir, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            pytest.fail(f"npm {' '.join(args)} in {app_dir.name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    if not (app_dir / "node_modules").is_dir():
        npm("ci", "--no-audit", "--no-fund")
    index = app_dir / "dist" / "index.html"
    if not index.exists() or index.stat().st_mtime < _newest_source(app_dir):
        npm("run", "build")


def free_port() -> int:
    sock = reserve_socket()
    port = sock.getsockname()[1]
    sock.close()
    return port


def vite(app_dir: Path) -> str:
    return str(app_dir / "node_modules" / "vite" / "bin" / "vite.js")


@contextlib.contextmanager
def vite_preview(app_dir: Path, env: dict[str, str], log_path: Path, *extra: str) -> Iterator[str]:
    """`vite preview` of a build on 127.0.0.1; yields the URL the browser opens (localhost: another
    site than the API's 127.0.0.1)."""
    port = free_port()
    log = log_path.open("w")  # a file, not a pipe nobody reads while the test runs
    proc = subprocess.Popen(
        ["node", vite(app_dir), "preview", *extra, "--host", "127.0.0.1", "--port", str(port), "--strictPort"],
        cwd=app_dir, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"vite preview did not start: {log_path.read_text()}")
            time.sleep(0.2)
        yield f"http://localhost:{port}"
    finally:
        stop_process(proc, timeout_s=10)
        log.close()


def cross_site_build(app_dir: Path, api: str, out: Path) -> dict[str, str]:
    """The app built to call the API at 127.0.0.1 directly (no proxy); returns the env it was built with."""
    env = {
        **os.environ, "POINTCHARGE_API_URL": api,
        "VITE_POINTCHARGE_API_URL": api, "VITE_IAMPORT_SDK_URL": f"{api}/sandbox/portone/iamport.js",
        "VITE_PORTONE_V2_SDK_URL": f"{api}/sandbox/portone/browser-sdk.js",
        "VITE_BOOTPAY_SDK_URL": f"{api}/sandbox/bootpay/bootpay.js",
    }
    build = subprocess.run(
        ["node", vite(app_dir), "build", "--outDir", str(out), "--emptyOutDir"],
        cwd=app_dir, env=env, capture_output=True, text=True, timeout=600,
    )
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    return env


class RestartableApi:
    """The API in sandbox mode on a fixed 127.0.0.1 port that a test can stop and start again."""

    def __init__(self, database_url: str) -> None:
        sock = reserve_socket()
        self.port = sock.getsockname()[1]
        self.url = socket_url(sock)
        self.settings = make_settings(database_url, public_url=self.url, portone_timeout_s=5.0)
        self._running: contextlib.ExitStack | None = None
        self.start(sock)

    def start(self, sock: socket.socket | None = None) -> None:
        if sock is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", self.port))
        stack = contextlib.ExitStack()
        stack.enter_context(run_server(create_app(self.settings), sock=sock))
        self._running = stack

    def stop(self) -> None:
        if self._running is not None:
            self._running.close()  # uvicorn stops and the listening socket is closed
            self._running = None


def shot(page, app: str, state: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"example-{app}-{state}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_up(page, email: str, name: str = "김철수") -> None:
    from playwright.sync_api import expect

    page.fill("#email", email)
    page.fill("#password", "password123")
    page.fill("#name", name)
    page.click("#btn-signup")
    expect(page.locator("#user-name")).to_have_text(name)


def charge_by_card(page, amount: int, balance_after: str | None = None) -> None:
    from playwright.sync_api import expect

    page.click(f'.package[data-amount="{amount}"]')
    page.click("#btn-pay")
    page.frame_locator("iframe.imp-sandbox-frame").locator("#btn-approve").click()
    expect(page.locator("#message")).to_contain_text(f"{amount:,}P 충전이 완료되었습니다.")
    if balance_after is not None:
        expect(page.locator("#balance")).to_have_text(balance_after)


def issue_virtual_account(page, amount: int):
    """A virtual account from the sandbox's checkout; returns the pending list's entries (one)."""
    from playwright.sync_api import expect

    page.click(f'.package[data-amount="{amount}"]')
    page.click("#btn-pay")
    page.frame_locator("iframe.imp-sandbox-frame").locator("#btn-vbank").click()
    pending = page.locator("#pending li")
    expect(pending).to_have_count(1)
    return pending


def fits(page, width: int = PHONE["width"]) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"the page is {scroll_width}px wide at {width}px"


def natural_width(img) -> int:
    """The decoded width of an <img> once it has loaded (0: the browser could not decode it)."""
    img.wait_for()
    img.page.wait_for_function("img => img.complete", arg=img.element_handle())
    return img.evaluate("img => img.naturalWidth")
