"""Serve the app in a child process for the browser tests, benchmarks/page.py and
scripts/screenshot.py: `python -m app` on a free port of 127.0.0.1, stopped on exit."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop(server: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Ask a server process to stop; kill it if it has not within `timeout` seconds."""
    server.terminate()
    try:
        server.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


@contextmanager
def running_app(startup_timeout: float = 30.0, env: dict[str, str] | None = None) -> Iterator[str]:
    """Yield the base URL of a freshly started app (with `env` added to its environment); always
    stop it."""
    port = free_port()
    env = {**os.environ, **(env or {}), "HOST": "127.0.0.1", "PORT": str(port)}
    log = tempfile.TemporaryFile()  # not a pipe: a chatty server must never block on it
    server = subprocess.Popen(
        [sys.executable, "-m", "app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if server.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"the app exited: {log.read().decode(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1) as answer:
                    ready = answer.status == 200
                if ready:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the app did not start within {startup_timeout:.0f} s")
            time.sleep(0.05)
        yield url
    finally:
        stop(server)
        log.close()
