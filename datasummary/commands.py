"""The command line's sub-commands and their arguments, as data, and the parser built from it.

One table (`COMMANDS`) says what each sub-command is for, an example, and its arguments, so
adding an option is one line and every sub-command's --help ends the same way (an example
and the exit codes). Light imports only: `datasummary --help` must start fast.
"""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _quarter(text: str) -> dt.date:
    from transforms.quarters import parse_quarter

    try:
        return parse_quarter(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


EXIT_CODES = """exit codes:
  0  done
  1  a workbook was rejected, or the command failed: something you must act on
  2  usage: a wrong option or value (nothing was done)"""

INBOX_HELP = "folder the leads drop workbooks in (default: DATASUMMARY_INBOX, else ./inbox)"
OUTPUT_HELP = (
    "folder for the store, archive and documents (default: DATASUMMARY_OUTPUT, else ./output)"
)


@dataclass(frozen=True)
class Arg:
    """One argument: its flags (or name) and what `add_argument` is given for it."""

    flags: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)


def arg(*flags: str, **options: Any) -> Arg:
    """An argument as `add_argument` would take it."""
    return Arg(flags, options)


@dataclass(frozen=True)
class Command:
    """A sub-command: its one-line purpose, an example for --help, its arguments."""

    name: str
    help: str
    example: str
    args: tuple[Arg, ...]


INBOX = arg("--inbox", type=Path, default=None, help=INBOX_HELP)
OUTPUT = arg("--output", type=Path, default=None, help=OUTPUT_HELP)
DB_URL = arg("--db-url", default=None)
STABLE_WAIT = arg("--stable-wait", type=float, default=2.0)

COMMANDS: tuple[Command, ...] = (
    Command(
        "templates",
        "write a blank return workbook for each submitter",
        "datasummary templates --quarter 2020-09-30 --out templates/",
        (
            arg("--quarter", type=_quarter, required=True, help="quarter end, e.g. 2020-09-30"),
            arg("--out", type=Path, required=True, help="folder to write the workbooks to"),
        ),
    ),
    Command(
        "check",
        "validate one workbook without filing it (exit 1: rejected)",
        "datasummary check inbox/EDU_2020-09-30.xlsx",
        (arg("file", type=Path),),
    ),
    Command(
        "intake",
        "file every new or changed workbook in the inbox",
        "datasummary intake --inbox inbox/ --output output/",
        (
            INBOX,
            OUTPUT,
            arg("--db-url", default=None, help="store URL (default: SQLite under OUTPUT)"),
            arg(
                "--stable-wait",
                type=float,
                default=2.0,
                help="seconds between the two looks that tell a file has finished arriving",
            ),
        ),
    ),
    Command(
        "run",
        "intake, then the quarterly report for a quarter",
        "datasummary run --quarter 2020-09-30 --inbox inbox/ --output output/",
        (
            arg(
                "--quarter",
                type=_quarter,
                default=None,
                help="quarter end (default: the last quarter whose deadline has passed)",
            ),
            INBOX,
            OUTPUT,
            DB_URL,
            arg("--approve", action="store_true", help="mark the documents issued"),
            arg(
                "--approved-by",
                default=None,
                help="the approver's name recorded with --approve (default: your login name)",
            ),
            STABLE_WAIT,
        ),
    ),
    Command(
        "serve",
        "register the scheduled deployments and run them (needs a Prefect server: PREFECT_API_URL)",
        "PREFECT_API_URL=http://127.0.0.1:4200/api datasummary serve --inbox inbox/",
        (
            INBOX,
            OUTPUT,
            DB_URL,
            arg(
                "--intake-minutes",
                type=float,
                default=None,
                help="minutes between intake runs (default 10, DATASUMMARY_INTAKE_MINUTES)",
            ),
        ),
    ),
    Command(
        "chase",
        "list (and e-mail, if SMTP is set) returns not yet "
        "accepted for the quarter whose deadline is nearest",
        "datasummary chase --quarter 2020-09-30",
        (
            arg(
                "--quarter",
                type=_quarter,
                default=None,
                help="quarter end (default: the quarter whose deadline is nearest)",
            ),
            INBOX,
            OUTPUT,
            DB_URL,
        ),
    ),
    Command(
        "watch",
        "run intake whenever a workbook lands in the inbox",
        "datasummary watch --inbox inbox/ --output output/",
        (INBOX, OUTPUT, DB_URL, arg("--stable-wait", type=float, default=1.0)),
    ),
    Command(
        "national",
        "intake and report for every partnership in a config",
        "datasummary national --config partnerships.yaml --quarter 2020-09-30 --workers 2",
        (
            arg("--config", type=Path, required=True, help="partnerships YAML or TOML"),
            arg("--quarter", type=_quarter, default=None),
            arg("--workers", type=int, default=2, help="local Dask worker processes"),
            arg("--address", default=None, help="an existing Dask scheduler's address"),
            STABLE_WAIT,
        ),
    ),
    Command(
        "demo",
        "generate sample returns and run the pipeline on them",
        "datasummary demo --dir /tmp/demo",
        (
            arg(
                "--dir",
                type=Path,
                default=Path("output") / "demo",
                help="a fresh folder for the demo (replaced if it holds an earlier demo)",
            ),
        ),
    ),
)


def parser() -> argparse.ArgumentParser:
    """The `datasummary` parser: global options, --version, and one sub-parser per command."""
    common = _global_options()
    p = argparse.ArgumentParser(
        prog="datasummary",
        description="Quarterly Data Summary pipeline: returns in, checked, measured, reported.",
        epilog="example:\n  datasummary demo --dir /tmp/demo\n\n"
        "Run `datasummary COMMAND --help` for a command's options and an example. "
        "Progress goes to stderr\n(a live display on a terminal, a line per stage "
        "otherwise); the summary goes to stdout.\n\n" + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        sp = sub.add_parser(
            command.name,
            help=command.help,
            description=command.help[:1].upper() + command.help[1:] + ".",
            epilog=f"example:\n  {command.example}\n\n{EXIT_CODES}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
            parents=[common],
        )
        for a in command.args:
            sp.add_argument(*a.flags, **a.options)
    return p


def _global_options() -> argparse.ArgumentParser:
    """--quiet/--verbose/--debug, accepted before or after the sub-command."""
    g = argparse.ArgumentParser(add_help=False)
    out = g.add_argument_group("output")
    for short, long, help in (
        ("-q", "--quiet", "no progress display or stage lines (the summary is still printed)"),
        (
            "-v",
            "--verbose",
            "also show the libraries' messages (Prefect, Great Expectations, SQLAlchemy)",
        ),
        (None, "--debug", "as --verbose, with debug messages and the full traceback of any error"),
    ):
        flags = (short, long) if short else (long,)
        out.add_argument(*flags, action="store_true", default=argparse.SUPPRESS, help=help)
    return g


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("datasummary")
    except PackageNotFoundError:  # run from a source tree that was never installed
        from datasummary import __version__

        return __version__
