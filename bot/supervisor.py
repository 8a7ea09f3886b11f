"""Background work that must not die quietly: each loop restarted with backoff, its state visible.

The outbox dispatcher, Telegram's polling and the directory refresh run for as long as the
server does. Whatever ends one of them (a database that went away, a bug) is logged with
its traceback, the loop is marked down (`/readyz` answers 503 and says which, `/metrics`
shows `vecinos_background_up` at 0) and started again after a pause that doubles up to five
seconds, so that a short outage costs seconds of delay, never a silent stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from bot.metrics import Metrics

log = logging.getLogger(__name__)

Loop = Callable[[], Awaitable[None]]

FIRST_PAUSE_S = 0.5
LONGEST_PAUSE_S = 5.0
HEALTHY_AFTER_S = 60.0  # a loop that ran this long before failing starts its pauses over


def pause_after(failures: int) -> float:
    """Seconds before restarting a loop that failed `failures` times in a row."""
    return min(LONGEST_PAUSE_S, FIRST_PAUSE_S * 2 ** (failures - 1))


class Supervisor:
    """Runs named loops as tasks and restarts them when they end; `down` names the stopped ones."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._up: dict[str, bool] = {}

    def start(self, name: str, loop: Loop) -> None:
        self._up[name] = True
        self._tasks[name] = asyncio.create_task(self._keep_running(name, loop), name=name)

    @property
    def states(self) -> dict[str, bool]:
        """Each loop's name and whether it runs now."""
        return dict(self._up)

    async def stop(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        for task in self._tasks.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _keep_running(self, name: str, loop: Loop) -> None:
        up = self._metrics.background_up.labels(task=name)
        failures = 0
        while True:
            self._up[name] = True
            up.set(1)
            started = time.monotonic()
            try:
                await loop()
                log.error("%s returned, though it should run as long as the server", name)
            except asyncio.CancelledError:
                raise
            except Exception:  # whatever it was, the loop must come back
                log.exception("%s stopped", name)
            self._up[name] = False
            up.set(0)
            self._metrics.background_restarts.labels(task=name).inc()
            failures = 1 if time.monotonic() - started > HEALTHY_AFTER_S else failures + 1
            pause = pause_after(failures)
            log.warning("%s: starting it again in %.1f s", name, pause)
            await asyncio.sleep(pause)
