"""Reports of neighborhood problems: reference numbers, status history, nearby duplicates."""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Report, ReportFollower, ReportStatus
from db.upsert import insert_ignoring_conflict

OPEN_STATUSES = ("received", "in_progress")
_EARTH_RADIUS_M = 6_371_000
_METRES_PER_DEGREE = 111_320


async def create_report(
    session: AsyncSession,
    *,
    conversation_id: int,
    neighbor_id: int,
    office_id: str,
    commune: str,
    sector: str | None,
    category: str,
    description: str,
    place: str,
    latitude: float | None,
    longitude: float | None,
    photo_ref: str | None,
    now: datetime,
) -> Report:
    """File a report; its reference ("2026-00042") is the year and the report's number."""
    report = Report(
        reference=f"pending-{conversation_id}",
        conversation_id=conversation_id,
        neighbor_id=neighbor_id,
        office_id=office_id,
        commune=commune,
        sector=sector,
        category=category,
        description=description,
        place=place,
        latitude=latitude,
        longitude=longitude,
        photo_ref=photo_ref,
        status="received",
        created_at=now,
    )
    session.add(report)
    await session.flush()
    report.reference = f"{now.year}-{report.id:05d}"
    session.add(ReportStatus(report_id=report.id, status="received", created_at=now))
    return report


async def nearby_open_report(
    session: AsyncSession,
    *,
    office_id: str,
    category: str,
    commune: str,
    sector: str | None,
    latitude: float | None,
    longitude: float | None,
    radius_m: float,
) -> Report | None:
    """An open report of the same category nearby: the nearest one.

    Nearby is within `radius_m` of the location or, without a location, in the same
    commune and sector (then the newest one).
    """
    query = select(Report).where(
        Report.office_id == office_id, Report.category == category, Report.status.in_(OPEN_STATUSES)
    )
    if latitude is None or longitude is None:
        sector_matches = Report.sector.is_(None) if sector is None else Report.sector == sector
        query = query.where(Report.commune == commune, sector_matches).order_by(Report.id.desc()).limit(1)
        return (await session.execute(query)).scalar_one_or_none()
    # A bounding box in the database, the exact distance here.
    delta_lat = radius_m / _METRES_PER_DEGREE
    delta_lon = radius_m / (_METRES_PER_DEGREE * max(math.cos(math.radians(latitude)), 0.01))
    query = query.where(
        Report.latitude.between(latitude - delta_lat, latitude + delta_lat),
        Report.longitude.between(longitude - delta_lon, longitude + delta_lon),
    )
    candidates = (await session.execute(query)).scalars().all()
    distances = [(distance_m(latitude, longitude, r.latitude, r.longitude), r) for r in candidates]
    within = [(d, r) for d, r in distances if d <= radius_m]
    return min(within, key=lambda pair: pair[0])[1] if within else None


def distance_m(lat1: float, lon1: float, lat2: float | None, lon2: float | None) -> float:
    """Great-circle distance in metres (haversine)."""
    if lat2 is None or lon2 is None:
        return math.inf
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(math.sqrt(a))


async def follow_report(session: AsyncSession, *, report_id: int, neighbor_id: int, now: datetime) -> None:
    """The neighbor will hear of this report's status changes (idempotent)."""
    values = {"report_id": report_id, "neighbor_id": neighbor_id, "created_at": now}
    await session.execute(
        insert_ignoring_conflict(session, ReportFollower, ["report_id", "neighbor_id"]), values
    )
