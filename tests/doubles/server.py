"""`vecinos serve` as a real process, the way an office runs it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

READY = "Vecinos está listo"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """Starts `python -m bot serve` in `workdir` with `env`; waits until it says it is ready."""

    def __init__(self, workdir: Path, database_url: str, port: int | None = None, **env: str) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "MEDIA_DIR": str(workdir / "media"),
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.process: subprocess.Popen[str] | None = None
        self.output: list[str] = []
        self._ready = threading.Event()

    def start(self, timeout: float = 30) -> Served:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            cwd=self.workdir,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read_output, daemon=True)
        self._reader.start()
        if not self._ready.wait(timeout):
            self.kill()
            raise AssertionError("vecinos serve did not start:\n" + "".join(self.output))
        return self

    def _read_output(self) -> None:
        """Keep the pipe drained (a full pipe would block the server) and notice readiness."""
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            if READY in line:
                self._ready.set()
        self.process.stdout.close()

    def kill(self) -> None:
        """kill -9: no cleanup, as in a power cut."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self._wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.send_signal(signal.SIGKILL)
        self._wait()

    def _wait(self) -> None:
        if self.process:
            self.process.wait()
            self._reader.join()

    def __enter__(self) -> Served:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class InThread:
    """An ASGI app served by uvicorn on a free local port, in a thread of the test process."""

    def __init__(self, app: object) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:  # uvicorn says when it listens; nothing to wait on
            if time.monotonic() > deadline:
                raise RuntimeError("the double did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
