"""Start and stop a real `vibevoice serve` on a loopback ephemeral port for the server tests."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import httpx


def metric(server: RunningServer, name: str) -> float:
    """The value of an unlabelled Prometheus metric of the running server."""
    text = httpx.get(server.url + "/metrics").text
    return float(next(line.split()[-1] for line in text.splitlines() if line.startswith(name + " ")))


class RunningServer:
    def __init__(self, proc: subprocess.Popen, url: str):
        self.proc = proc
        self.url = url
        self.port = int(url.rsplit(":", 1)[1])

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> tuple[int, str]:
        """Signal the server, wait for it; returns (exit code, its stderr)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
            raise AssertionError(f"the server did not stop within {timeout} s:\n{err.decode(errors='replace')}")
        return self.proc.returncode, err.decode(errors="replace")


def start_server(exe: Path, model: Path, *args: str, timeout: float = 60) -> RunningServer:
    cmd = [str(exe), "serve", "--model", str(model), "--port", "0", "--threads", "1", *map(str, args)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    line = b""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if m := re.search(rb"listening on (http://[0-9.]+:\d+)", line):
            return RunningServer(proc, m.group(1).decode())
        if proc.poll() is not None:
            break
    proc.kill()
    _, err = proc.communicate()
    raise AssertionError(f"the server did not start: {line!r}\n{err.decode(errors='replace')}")


@contextmanager
def running_server(exe: Path, model: Path, *args: str):
    server = start_server(exe, model, *args)
    try:
        yield server
    finally:
        code, err = server.stop()
        assert code == 0, f"the server exited with {code}:\n{err}"
