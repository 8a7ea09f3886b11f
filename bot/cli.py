"""The `vecinos` command line: each command builds `Settings` once and calls one function."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot.directory_table import offices_json, offices_table
from bot.settings import Settings
from handlers.texts import Texts
from routing.directory import DirectoryError, load_directory
from routing.understand import Understander, UnknownCommune

EXIT_USAGE = 2
EXIT_DATA = 3


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
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, proxy_headers=True)
    return 0
