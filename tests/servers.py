"""Run an ASGI app over real HTTP for a test: uvicorn in a background thread on a free port.

    with run_server(app) as base_url:          # "http://127.0.0.1:<port>"
        httpx.get(base_url + "/health")

An app that must know its own URL before it starts (the API mounts the sandbox and reaches it
through its public URL) reserves the socket first:

    sock = reserve_socket()
    url = socket_url(sock)                      # build the app with it, then
    with run_server(create_app(settings_for(url)), sock=sock) as base_url: ...

Real sockets (not ASGITransport) because what we test includes timeouts, truncated bodies and
webhooks sent from one server to another, which only a network path exercises.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn


def reserve_socket(host: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))  # the kernel picks a free port; we keep the socket so nobody races us
    return sock


def socket_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


@contextlib.contextmanager
def run_server(
    app,
    *,
    host: str = "127.0.0.1",
    startup_timeout_s: float = 10.0,
    lifespan: str = "on",
    sock: socket.socket | None = None,
) -> Iterator[str]:
    if sock is None:
        sock = reserve_socket(host)
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan=lifespan,
        access_log=False,
        # Requests deliberately held open (timeout faults) must not stall teardown.
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout_s
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn exited during startup")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"uvicorn did not start within {startup_timeout_s}s")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def free_port(host: str = "127.0.0.1") -> int:
    """A port for a subprocess to bind (the kernel rarely hands a just-freed port out again)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def run_process(
    args: list[str], ready_url: str, *, env: dict[str, str] | None = None, cwd: str | None = None,
    output: list[str] | None = None, startup_timeout_s: float = 60.0,
) -> Iterator[None]:
    """``python -m <args>`` as its own process until the block ends (SIGTERM: a clean shutdown);
    ready once ``ready_url`` answers. What it printed (stdout and stderr) is appended to
    ``output`` when it has stopped."""
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    import httpx

    repo = str(Path(__file__).resolve().parent.parent)
    env = {**(env if env is not None else __import__("os").environ), "PYTHONPATH": repo}
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen([sys.executable, "-m", *args], cwd=cwd or repo, env=env, stdout=log, stderr=log, text=True)
        try:
            deadline = time.monotonic() + startup_timeout_s
            while True:
                try:
                    httpx.get(ready_url, timeout=1.0)
                    break
                except httpx.TransportError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        raise RuntimeError(f"{args} did not start: {log.read()[-2000:]}") from None
                    time.sleep(0.1)
            yield
        finally:
            stop_process(proc, timeout_s=15)
            if output is not None:
                log.seek(0)
                output.append(log.read())


def stop_process(proc: "subprocess.Popen", timeout_s: float) -> None:
    """SIGTERM (a clean shutdown); SIGKILL when it has not stopped within ``timeout_s``."""
    import subprocess

    proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
