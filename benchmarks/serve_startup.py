"""How long `vecinos serve` takes to answer /healthz on a fresh SQLite file (bar: 3 s).

    python benchmarks/serve_startup.py [--runs 5]

Each run starts a new process on a new database file (created and migrated at start)
and times the first successful /healthz from the moment the process is launched.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_run() -> float:
    with tempfile.TemporaryDirectory() as workdir:
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite+aiosqlite:///{Path(workdir) / 'fresh.db'}",
            "PORT": str(port),
            "MEDIA_DIR": str(Path(workdir) / "media"),
        }
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"], cwd=workdir, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                        if response.status == 200:
                            return time.perf_counter() - started
                except OSError:
                    if process.poll() is not None:
                        raise SystemExit("vecinos serve exited") from None
                    time.sleep(0.01)  # a benchmark may poll: it measures, it asserts nothing
        finally:
            process.terminate()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    times = [one_run() for _ in range(args.runs)]
    print(f"vecinos serve to /healthz on a fresh SQLite file: median {statistics.median(times):.2f} s, "
          f"max {max(times):.2f} s over {args.runs} runs")  # fmt: skip


if __name__ == "__main__":
    main()
