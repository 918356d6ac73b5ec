"""The `datasummary` command line (docs/contract/outputs.md).

Imports are lazy so `--help` and `check` start fast: `check` needs neither Prefect nor a
server, and GX is only imported when a workbook is validated.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
from pathlib import Path

from datasummary.settings import default_inbox, default_output, quiet_environment


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

#: The first stage of a command that runs a flow: importing Prefect, starting its local API.
STARTING = "starting Prefect"

#: Loggers of this project; every other logger is a library's.
OWN_LOGGERS = ("transforms", "flows", "datasummary")


def _global_options() -> argparse.ArgumentParser:
    """--quiet/--verbose/--debug, accepted before or after the sub-command."""
    g = argparse.ArgumentParser(add_help=False)
    out = g.add_argument_group("output")
    out.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=argparse.SUPPRESS,
        help="no progress display or stage lines (the summary is still printed)",
    )
    out.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="also show the libraries' messages (Prefect, Great Expectations, SQLAlchemy)",
    )
    out.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="as --verbose, with debug messages and the full traceback of any error",
    )
    return g


def _sub(sub, name: str, help: str, example: str, parent) -> argparse.ArgumentParser:
    """A sub-command whose --help ends with an example and the exit codes."""
    return sub.add_parser(
        name,
        help=help,
        description=help[:1].upper() + help[1:] + ".",
        epilog=f"example:\n  {example}\n\n{EXIT_CODES}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[parent],
    )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("datasummary")
    except PackageNotFoundError:  # run from a source tree that was never installed
        from datasummary import __version__

        return __version__


def _parser() -> argparse.ArgumentParser:
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

    t = _sub(
        sub,
        "templates",
        "write a blank return workbook for each submitter",
        "datasummary templates --quarter 2020-09-30 --out templates/",
        common,
    )
    t.add_argument("--quarter", type=_quarter, required=True, help="quarter end, e.g. 2020-09-30")
    t.add_argument("--out", type=Path, required=True, help="folder to write the workbooks to")

    c = _sub(
        sub,
        "check",
        "validate one workbook without filing it (exit 1: rejected)",
        "datasummary check inbox/EDU_2020-09-30.xlsx",
        common,
    )
    c.add_argument("file", type=Path)

    i = _sub(
        sub,
        "intake",
        "file every new or changed workbook in the inbox",
        "datasummary intake --inbox inbox/ --output output/",
        common,
    )
    i.add_argument("--inbox", type=Path, default=None, help=INBOX_HELP)
    i.add_argument("--output", type=Path, default=None, help=OUTPUT_HELP)
    i.add_argument("--db-url", default=None, help="store URL (default: SQLite under OUTPUT)")
    i.add_argument(
        "--stable-wait",
        type=float,
        default=2.0,
        help="seconds between the two looks that tell a file has finished arriving",
    )

    r = _sub(
        sub,
        "run",
        "intake, then the quarterly report for a quarter",
        "datasummary run --quarter 2020-09-30 --inbox inbox/ --output output/",
        common,
    )
    r.add_argument(
        "--quarter",
        type=_quarter,
        default=None,
        help="quarter end (default: the last quarter whose deadline has passed)",
    )
    r.add_argument("--inbox", type=Path, default=None, help=INBOX_HELP)
    r.add_argument("--output", type=Path, default=None, help=OUTPUT_HELP)
    r.add_argument("--db-url", default=None)
    r.add_argument("--approve", action="store_true", help="mark the documents issued")
    r.add_argument(
        "--approved-by",
        default=None,
        help="the approver's name recorded with --approve (default: your login name)",
    )
    r.add_argument("--stable-wait", type=float, default=2.0)

    s = _sub(
        sub,
        "serve",
        "register the scheduled deployments and run them (needs a Prefect server: PREFECT_API_URL)",
        "PREFECT_API_URL=http://127.0.0.1:4200/api datasummary serve --inbox inbox/",
        common,
    )
    s.add_argument("--inbox", type=Path, default=None, help=INBOX_HELP)
    s.add_argument("--output", type=Path, default=None, help=OUTPUT_HELP)
    s.add_argument("--db-url", default=None)
    s.add_argument(
        "--intake-minutes",
        type=float,
        default=None,
        help="minutes between intake runs (default 10, DATASUMMARY_INTAKE_MINUTES)",
    )

    ch = _sub(
        sub,
        "chase",
        "list (and e-mail, if SMTP is set) returns not yet "
        "accepted for the quarter whose deadline is nearest",
        "datasummary chase --quarter 2020-09-30",
        common,
    )
    ch.add_argument(
        "--quarter",
        type=_quarter,
        default=None,
        help="quarter end (default: the quarter whose deadline is nearest)",
    )
    ch.add_argument("--inbox", type=Path, default=None, help=INBOX_HELP)
    ch.add_argument("--output", type=Path, default=None, help=OUTPUT_HELP)
    ch.add_argument("--db-url", default=None)
    w = _sub(
        sub,
        "watch",
        "run intake whenever a workbook lands in the inbox",
        "datasummary watch --inbox inbox/ --output output/",
        common,
    )
    w.add_argument("--inbox", type=Path, default=None, help=INBOX_HELP)
    w.add_argument("--output", type=Path, default=None, help=OUTPUT_HELP)
    w.add_argument("--db-url", default=None)
    w.add_argument("--stable-wait", type=float, default=1.0)

    n = _sub(
        sub,
        "national",
        "intake and report for every partnership in a config",
        "datasummary national --config partnerships.yaml --quarter 2020-09-30 --workers 2",
        common,
    )
    n.add_argument("--config", type=Path, required=True, help="partnerships YAML or TOML")
    n.add_argument("--quarter", type=_quarter, default=None)
    n.add_argument("--workers", type=int, default=2, help="local Dask worker processes")
    n.add_argument("--address", default=None, help="an existing Dask scheduler's address")
    n.add_argument("--stable-wait", type=float, default=2.0)

    d = _sub(
        sub,
        "demo",
        "generate sample returns and run the pipeline on them",
        "datasummary demo --dir /tmp/demo",
        common,
    )
    d.add_argument(
        "--dir",
        type=Path,
        default=Path("output") / "demo",
        help="a fresh folder for the demo (replaced if it holds an earlier demo)",
    )
    return p


def _flag(args: argparse.Namespace, name: str) -> bool:
    return bool(getattr(args, name, False))


class ConsoleLogHandler(logging.StreamHandler):
    """The console's log handler: stderr as it is at each message (a live display swaps it).

    Installed on the root logger before Prefect is imported, so Prefect keeps it and adds
    no console handler of its own (prefect.logging.configuration.setup_logging).
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self):  # noqa: D102
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


class OwnMessagesOnly(logging.Filter):
    """Without --verbose the console shows this project's messages, not the libraries'."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name.startswith(OWN_LOGGERS)


class ConsoleFormatter(logging.Formatter):
    """A message per line; the traceback only when asked for (--debug)."""

    def __init__(self, fmt: str, tracebacks: bool) -> None:
        super().__init__(fmt, "%H:%M:%S")
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        if self.tracebacks or not (record.exc_info or record.exc_text or record.stack_info):
            return super().format(record)
        bare = {**record.__dict__, "exc_info": None, "exc_text": None, "stack_info": None}
        return super().format(logging.makeLogRecord(bare))


def console_logging(verbose: bool, debug: bool) -> None:
    """What reaches the console: by default only this project's warnings and errors.

    Library chatter (GX's "Created temporary directory", Prefect's engine messages,
    SQLAlchemy) is hidden unless --verbose; --debug adds debug messages and tracebacks.
    Only the console is filtered: what Prefect sends to its API (the run logs in the UI)
    is decided by the loggers' levels and Prefect's own handlers, which this leaves alone.
    """
    verbose = verbose or debug
    if verbose:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    else:  # Prefect's machinery logs to its own stderr handler, not through the root logger
        os.environ.setdefault("PREFECT_INTERNAL_LOGGING_LEVEL", "CRITICAL")
    root = logging.getLogger()
    for h in list(root.handlers):
        if type(h).__name__ in ("PrefectConsoleHandler", "ConsoleLogHandler"):
            root.removeHandler(h)
    handler = ConsoleLogHandler()
    handler.setLevel(logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING)
    handler.setFormatter(
        ConsoleFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", debug)
        if verbose
        else ConsoleFormatter("%(levelname)s: %(message)s", debug)
    )
    if not verbose:
        handler.addFilter(OwnMessagesOnly())
    root.addHandler(handler)
    if verbose:
        root.setLevel(logging.INFO)
    for name in OWN_LOGGERS:
        if debug:
            logging.getLogger(name).setLevel(logging.DEBUG)
    logging.captureWarnings(True)  # library warnings are chatter too: shown with --verbose


def _console_shows_info() -> None:
    """Let this project's INFO messages through (watch reports each intake as it runs)."""
    root = logging.getLogger()
    if root.level > logging.INFO:
        root.setLevel(logging.INFO)
    for h in root.handlers:
        if isinstance(h, ConsoleLogHandler) and h.level > logging.INFO:
            h.setLevel(logging.INFO)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; the exit code is in EXIT_CODES."""
    args = _parser().parse_args(argv)
    verbose, debug = _flag(args, "verbose"), _flag(args, "debug")
    console_logging(verbose, debug)
    quiet_environment()
    handler = {
        "templates": _templates,
        "check": _check,
        "intake": _intake,
        "run": _run,
        "demo": _demo,
        "serve": _serve,
        "chase": _chase,
        "watch": _watch,
        "national": _national,
    }[args.command]
    from transforms.faults import environment_fault
    from transforms.folders import FolderProblem

    try:
        return handler(args)
    except FolderProblem as exc:  # a mistyped inbox or an unusable output folder: usage
        print(f"datasummary {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("datasummary: interrupted", file=sys.stderr)
        return 1
    except Exception as exc:
        if debug or os.environ.get("DATASUMMARY_DEBUG"):
            raise
        # The environment, not the data (store unreachable, folder not writable): say what
        # and where in one line, the password masked.
        store = getattr(args, "db_url", None) or os.environ.get("DATASUMMARY_DB_URL")
        if store is None and hasattr(args, "output"):  # the SQLite store's folder
            store = str((args.output or default_output()) / "state")
        line = environment_fault(exc, store)
        if line is not None:
            print(f"datasummary {args.command}: {line}", file=sys.stderr)
            return 1
        print(f"datasummary {args.command}: error: {exc}", file=sys.stderr)
        print("(run again with --debug for the full traceback)", file=sys.stderr)
        return 1


def _progress(args: argparse.Namespace):
    """The progress display this command's options and stderr call for."""
    from datasummary.progress import progress_display

    return progress_display(_flag(args, "quiet"), _flag(args, "verbose") or _flag(args, "debug"))


def _templates(args: argparse.Namespace) -> int:
    from transforms.intake.templates import write_templates

    with _progress(args) as progress:
        paths = write_templates(args.quarter, args.out, progress=progress)
    for path in paths:
        print(path)
    print(f"{len(paths)} template(s) for quarter end {args.quarter} in {args.out}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from transforms.findings import STATUS_REJECTED
    from transforms.intake.feedback import feedback_text
    from transforms.intake.validate import INTAKE_SANDBOX, check_workbook

    if not args.file.is_file():
        print(f"{args.file}: no such file", file=sys.stderr)
        return 2
    parsed = check_workbook(args.file, sandbox=INTAKE_SANDBOX)
    print(feedback_text(parsed))
    return 1 if parsed.status == STATUS_REJECTED else 0


def _intake(args: argparse.Namespace) -> int:
    from datasummary.summaries import intake_exit_code, intake_lines
    from flows.progress import reporting_to

    inbox = (args.inbox or default_inbox()).resolve()
    with _progress(args) as progress, reporting_to(progress):
        progress(STARTING, 0, None)
        from flows.intake import intake_flow

        result = intake_flow(
            inbox=inbox,
            output=(args.output or default_output()).resolve(),
            db_url=args.db_url,
            stable_wait=args.stable_wait,
        )
    every_file = _flag(args, "verbose") or _flag(args, "debug")
    print("\n".join(intake_lines(result, inbox, every_file=every_file)))
    return intake_exit_code(result)


def _run(args: argparse.Namespace) -> int:
    import getpass

    from datasummary.settings import Settings
    from datasummary.summaries import expected_returns_now, run_summary
    from flows.progress import reporting_to
    from transforms.quarters import latest_due_quarter

    quarter = args.quarter or latest_due_quarter(dt.date.today())
    settings = Settings(
        inbox=(args.inbox or default_inbox()).resolve(),
        output=(args.output or default_output()).resolve(),
        db_url=args.db_url,
    )
    with _progress(args) as progress, reporting_to(progress):
        progress(STARTING, 0, None)
        from flows.quarterly import quarterly_flow

        paths = quarterly_flow(
            quarter_end=quarter,
            inbox=settings.inbox,
            output=settings.output,
            db_url=args.db_url,
            approve=args.approve,
            approved_by=(args.approved_by or getpass.getuser()) if args.approve else None,
            stable_wait=args.stable_wait,
        )
    expected = expected_returns_now(settings.database_url, quarter)
    summary = run_summary(quarter, paths, expected, approved=args.approve)
    print("\n".join(summary.lines()))
    return summary.exit_code


def _serve(args: argparse.Namespace) -> int:
    import os

    from datasummary.settings import Settings
    from flows.serve import serve

    if not os.environ.get("PREFECT_API_URL"):
        from prefect.settings import PREFECT_API_URL

        if not PREFECT_API_URL.value():
            print(
                "serve needs a running Prefect server: start one with "
                "`prefect server start --host 127.0.0.1` and set PREFECT_API_URL "
                "(see docs/operations.md)",
                file=sys.stderr,
            )
            return 2
    settings = Settings(
        inbox=(args.inbox or default_inbox()).resolve(),
        output=(args.output or default_output()).resolve(),
        db_url=args.db_url,
    )
    serve(settings, args.intake_minutes)
    return 0


def _chase(args: argparse.Namespace) -> int:
    from flows.chase import chase_flow

    files = chase_flow(
        quarter_end=args.quarter,
        inbox=(args.inbox or default_inbox()).resolve(),
        output=(args.output or default_output()).resolve(),
        db_url=args.db_url,
    )
    for path in files.values():
        print(path)
    return 0


def _watch(args: argparse.Namespace) -> int:
    import contextlib

    from flows.watch import watch_inbox

    _console_shows_info()
    inbox = (args.inbox or default_inbox()).resolve()
    print(f"watching {inbox} (Ctrl+C to stop)")
    with contextlib.suppress(KeyboardInterrupt):
        watch_inbox(
            inbox,
            (args.output or default_output()).resolve(),
            db_url=args.db_url,
            stable_wait=args.stable_wait,
        )
    return 0


def _national(args: argparse.Namespace) -> int:
    from flows.progress import reporting_to
    from transforms.quarters import latest_due_quarter

    quarter = args.quarter or latest_due_quarter(dt.date.today())
    with _progress(args) as progress, reporting_to(progress):
        progress(STARTING, 0, None)
        from flows.national import national_flow

        results = national_flow(
            args.config,
            quarter,
            workers=args.workers,
            address=args.address,
            stable_wait=args.stable_wait,
        )
    for r in results:
        intake = r["intake"]
        print(
            f"{r['name']}: version {r['version']}, {intake.get('processed', 0)} workbook(s) "
            f"filed ({intake.get('rejected', 0)} rejected), {r['paths']['docx']}"
        )
    print(f"{len(results)} partnership(s), quarter end {quarter}")
    return 1 if any(r["intake"].get("rejected") for r in results) else 0


def _demo(args: argparse.Namespace) -> int:
    import shutil

    base = args.dir.resolve()
    marker = base / ".datasummary-demo"
    if base.exists() and any(base.iterdir()):
        if not marker.exists():
            print(
                f"{base} is not empty and is not an earlier demo: choose another --dir",
                file=sys.stderr,
            )
            return 2
        shutil.rmtree(base)
    base.mkdir(parents=True)
    marker.touch()
    from datasummary.settings import Settings
    from datasummary.summaries import expected_returns_now, run_summary
    from flows.progress import reporting_to

    with _progress(args) as progress, reporting_to(progress):
        progress(STARTING, 0, None)
        from flows.demo import demo_flow

        paths = demo_flow(base)
    quarter = dt.date.fromisoformat(Path(paths["docx"]).parent.name)
    settings = Settings(inbox=base / "inbox", output=base / "output")
    summary = run_summary(
        quarter, paths, expected_returns_now(settings.database_url, quarter), approved=True
    )
    print("\n".join(summary.lines()))
    print(f"Feedback the leads got: {base / 'inbox' / 'feedback'}")
    print(f"Open the report: {paths['docx']}")
    return 0  # the sample's faulty workbooks are rejected on purpose


if __name__ == "__main__":
    sys.exit(main())
