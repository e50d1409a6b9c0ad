"""What the browser benchmarks share: headless Chromium flags and `python app.py` on a free port."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def app_server(store: Path | None = None, ready_path: str = "/", timeout: float = 60.0):
    """Serve the app (over ``store`` if given, without Redis); yields its base URL and stops it afterwards."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("ATTRACTORSCOPE_REDIS_URL", None)
    if store is not None:
        env["ATTRACTORSCOPE_STORE"] = env["ATTRACTORSCOPE_USER_STORE"] = str(store)  # jobs too: never user_models/
    port = free_port()
    server = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base + ready_path, server, timeout)
        yield base
    finally:
        stop(server)


def stop(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    """Terminate a server, and kill it if it has not exited within ``timeout`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()


def _wait_for(url: str, server: subprocess.Popen, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"app.py exited with {server.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"server at {url} did not start")
