"""The `vecinos` command line: each command builds `Settings` once and calls one function."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot.auth import ROLES
from bot.directory_table import offices_json, offices_table
from bot.settings import Settings
from handlers.texts import Texts
from routing.directory import DirectoryError, load_directory
from routing.understand import Understander, UnknownCommune

EXIT_USAGE = 2
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EXIT_DATA = 3


SHUTDOWN_GRACE_S = 3


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `vecinos` console script."""
    args = _parser().parse_args(argv)
    settings = Settings()
    texts = Texts.from_dir(settings.data_dir)
    try:
        return args.run(args, settings, texts, sys.stdout)
    except DirectoryError as exc:
        print(texts("errors.bad_data", error=exc), file=sys.stderr)
        return EXIT_DATA


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vecinos", description="Vecinos: the line between neighbors and their community office."
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    explain = commands.add_parser("explain", help="print how a first message is understood (JSON)")
    explain.add_argument("text", nargs="?", help="the message, as a neighbor would write it")
    explain.add_argument("--commune", help="the neighbor's known commune (any spelling)")
    explain.add_argument(
        "--batch",
        type=Path,
        metavar="FILE",
        help="one message per line in, one JSON per line out ('-' for stdin)",
    )
    explain.set_defaults(run=run_explain)

    serve = commands.add_parser("serve", help="run everything: HTTP server, channels, web chat, dispatcher")
    serve.set_defaults(run=run_serve)

    officers = commands.add_parser("officers", help="console accounts").add_subparsers(
        required=True, metavar="ACTION"
    )
    add = officers.add_parser("add", help="create an account; prints a one-time password")
    add.add_argument("--office", required=True, help="the office id (see `vecinos offices`)")
    add.add_argument("--name", required=True)
    add.add_argument("--email", required=True)
    add.add_argument("--role", choices=ROLES, default="officer")
    add.set_defaults(run=run_officers_add)

    offices = commands.add_parser("offices", help="print the office directory and what is still unconfirmed")
    offices.add_argument("--json", action="store_true", help='print {"offices": [...]} for machines')
    offices.set_defaults(run=run_offices)
    return parser


def run_explain(args: argparse.Namespace, settings: Settings, texts: Texts, out: TextIO) -> int:
    """`vecinos explain`: one JSON object per message (SPEC §8)."""
    if (args.text is None) == (args.batch is None):
        print("vecinos explain: give TEXT or --batch FILE (one of them)", file=sys.stderr)
        return EXIT_USAGE
    understander = Understander.load(settings.data_dir, settings.timezone)
    commune = None
    if args.commune:
        try:
            commune = understander.official_commune(args.commune)
        except UnknownCommune:
            print(texts("errors.unknown_commune", name=args.commune), file=sys.stderr)
            return EXIT_USAGE
    if args.text is not None:
        lines: Sequence[str] = [args.text]
    else:
        try:
            lines = _read_lines(args.batch)
        except (OSError, UnicodeDecodeError) as exc:
            print(texts("errors.batch_unreadable", path=args.batch, error=exc), file=sys.stderr)
            return EXIT_USAGE
    for line in lines:
        result = understander.understand(line, commune=commune)
        out.write(json.dumps(result.as_json(), ensure_ascii=False) + "\n")
    return 0


def _read_lines(path: Path) -> list[str]:
    if str(path) == "-":
        return sys.stdin.read().splitlines()
    return path.read_text(encoding="utf-8").splitlines()


def run_offices(args: argparse.Namespace, settings: Settings, texts: Texts, out: TextIO) -> int:
    """`vecinos offices`: the directory as a table, or JSON with `--json`."""
    directory = load_directory(settings.data_dir)
    if args.json:
        out.write(json.dumps(offices_json(directory), ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(offices_table(directory, texts) + "\n")
    return 0


def run_serve(args: argparse.Namespace, settings: Settings, texts: Texts, out: TextIO) -> int:
    """`vecinos serve`: one process with the HTTP server, the channels and the dispatcher."""
    import uvicorn  # here, so that `explain` and `offices` start fast

    from bot.app import create_app
    from bot.logs import configure_logging

    host = "localhost" if settings.host in ("127.0.0.1", "0.0.0.0") else settings.host

    def announce(channels_off: list[str]) -> None:
        if channels_off:
            out.write(texts("serve.channels_off", channels="; ".join(channels_off)) + "\n")
        out.write(texts("serve.ready", url=f"http://{host}:{settings.port}") + "\n")
        out.flush()

    configure_logging()
    app = create_app(settings, on_ready=announce)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        # A stop does not wait for the web chat's long polls (up to 25 s): the pages poll again.
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
        **proxy_options(settings),
    )
    return 0


def proxy_options(settings: Settings) -> dict[str, object]:
    """Uvicorn's proxy options: X-Forwarded-For is believed only from FORWARDED_ALLOW_IPS.

    Without it, the client's own address counts: otherwise anyone could name a new address
    with each sign-in attempt and escape the throttle.
    """
    allowed = settings.forwarded_allow_ips
    return {"proxy_headers": bool(allowed), "forwarded_allow_ips": allowed}


def run_officers_add(args: argparse.Namespace, settings: Settings, texts: Texts, out: TextIO) -> int:
    """`vecinos officers add`: an account with a one-time password, changed at first sign-in."""
    import asyncio
    from datetime import UTC, datetime

    from sqlalchemy.exc import IntegrityError

    from bot.auth import hash_password, one_time_password
    from db.directory import sync_directory
    from db.engine import create_engine, create_sessionmaker
    from db.migrate import migrate
    from db.officers import create_officer

    directory = load_directory(settings.data_dir)
    office = directory.offices.get(args.office)
    if office is None:
        print(texts("officers.unknown_office", office=args.office), file=sys.stderr)
        return EXIT_USAGE
    email = args.email.strip().lower()
    if not _EMAIL.match(email):
        print(texts("officers.bad_email", email=args.email), file=sys.stderr)
        return EXIT_USAGE
    password = one_time_password()

    async def add() -> None:
        engine = create_engine(settings.database_url)
        try:
            await migrate(engine)
            sessions = create_sessionmaker(engine)
            async with sessions.begin() as session:
                await sync_directory(session, directory)
                await create_officer(
                    session,
                    office_id=office.id,
                    name=args.name,
                    email=email,
                    role=args.role,
                    password_hash=hash_password(password),
                    now=datetime.now(UTC),
                )
        finally:
            await engine.dispose()

    try:
        asyncio.run(add())
    except IntegrityError:
        print(texts("officers.email_taken", email=email), file=sys.stderr)
        return EXIT_USAGE
    out.write(
        texts(
            "officers.created",
            name=args.name,
            email=email,
            role=texts(f"officers.roles.{args.role}"),
            office=office.name,
        )
        + "\n"
    )
    out.write(texts("officers.one_time_password", password=password) + "\n")
    return 0
