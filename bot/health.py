"""`/healthz` (alive), `/readyz` (database reachable, background loops running), `/metrics`."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.metrics import Metrics
from bot.supervisor import Supervisor


def health_routes(
    sessions: async_sessionmaker[AsyncSession], metrics: Metrics, supervisor: Supervisor
) -> list[Route]:
    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        try:
            async with sessions() as session:
                await session.execute(text("SELECT 1"))
            database = "ok"
        except (SQLAlchemyError, OSError):
            database = "unreachable"
        background = {name: "running" if up else "restarting" for name, up in supervisor.states.items()}
        ready = database == "ok" and all(state == "running" for state in background.values())
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", "database": database, "background": background},
            status_code=200 if ready else 503,
        )

    async def metrics_endpoint(request: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]
