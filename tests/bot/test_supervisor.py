"""Background loops come back after whatever stopped them, and say so."""

from __future__ import annotations

import asyncio

from bot.metrics import Metrics
from bot.supervisor import Supervisor, pause_after


async def test_a_loop_that_fails_is_started_again_and_counted() -> None:
    metrics, calls, running = Metrics(), [], asyncio.Event()

    async def flaky() -> None:
        calls.append(len(calls))
        if len(calls) < 3:
            raise ConnectionRefusedError("the database went away")
        running.set()
        await asyncio.Event().wait()  # runs for as long as the server

    supervisor = Supervisor(metrics)
    supervisor.start("outbox-dispatcher", flaky)
    await asyncio.wait_for(running.wait(), timeout=10)
    assert supervisor.states == {"outbox-dispatcher": True}
    assert metrics.background_restarts.labels(task="outbox-dispatcher")._value.get() == 2
    assert metrics.background_up.labels(task="outbox-dispatcher")._value.get() == 1
    await supervisor.stop()


def test_pauses_double_up_to_five_seconds() -> None:
    assert [pause_after(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
