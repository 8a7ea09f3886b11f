"""How fast `explain` understands messages in-process (issue 3's bar: >= 5,000 messages/s).

    python benchmarks/explain.py [--seconds 3]

Messages are the labelled first messages of the test suite (realistic length and spread).
The first pass is cold (nothing cached); later passes show steady state, where the fuzzy
place-name cache is warm as it is in a running server. Also times a location lookup.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from routing.understand import Understander

MESSAGES = Path(__file__).resolve().parents[1] / "tests" / "routing" / "first_messages.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="how long to run the steady-state loop")
    args = parser.parse_args()

    started = time.perf_counter()
    understander = Understander.load()
    load_seconds = time.perf_counter() - started
    texts = [json.loads(line)["text"] for line in MESSAGES.read_text(encoding="utf-8").splitlines()]
    at = datetime.now(ZoneInfo("America/Santiago"))

    started = time.perf_counter()
    for text in texts:
        understander.understand(text, at=at)
    cold = len(texts) / (time.perf_counter() - started)

    count = 0
    started = time.perf_counter()
    while time.perf_counter() - started < args.seconds:
        for text in texts:
            understander.understand(text, at=at)
        count += len(texts)
    warm = count / (time.perf_counter() - started)

    rng = random.Random(7)
    points = [(rng.uniform(-35.0, -33.8), rng.uniform(-72.1, -70.3)) for _ in range(20_000)]
    started = time.perf_counter()
    for latitude, longitude in points:
        understander.locate(latitude, longitude)
    locate_us = (time.perf_counter() - started) / len(points) * 1e6

    print(f"data loaded in            {load_seconds * 1000:8.0f} ms")
    print(f"explain, first pass       {cold:8.0f} messages/s  ({len(texts)} distinct messages)")
    print(f"explain, steady state     {warm:8.0f} messages/s  ({count} messages)")
    print(f"locate a shared location  {locate_us:8.1f} us per point")


if __name__ == "__main__":
    main()
