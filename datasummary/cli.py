"""The `datasummary` command line (docs/contract/outputs.md).

Imports are lazy so `--help` and `check` start fast: `check` needs neither Prefect nor a
server, and GX is only imported when a workbook is validated.
"""

from __future__ import annotations

import argparse
import datetime as dt
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


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="datasummary",
        description="Quarterly Data Summary pipeline: returns in, checked, measured, reported.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    t = sub.add_parser("templates", help="write a blank return workbook for each submitter")
    t.add_argument("--quarter", type=_quarter, required=True, help="quarter end, e.g. 2020-09-30")
    t.add_argument("--out", type=Path, required=True, help="folder to write the workbooks to")

    c = sub.add_parser("check", help="validate one workbook without filing it (exit 1: rejected)")
    c.add_argument("file", type=Path)

    i = sub.add_parser("intake", help="file every new or changed workbook in the inbox")
    i.add_argument("--inbox", type=Path, default=None)
    i.add_argument("--output", type=Path, default=None)
    i.add_argument("--db-url", default=None, help="store URL (default: SQLite under OUTPUT)")
    i.add_argument(
        "--stable-wait",
        type=float,
        default=2.0,
        help="seconds between the two looks that tell a file has finished arriving",
    )

    r = sub.add_parser("run", help="intake, then the quarterly report for a quarter")
    r.add_argument(
        "--quarter",
        type=_quarter,
        default=None,
        help="quarter end (default: the last quarter whose deadline has passed)",
    )
    r.add_argument("--inbox", type=Path, default=None)
    r.add_argument("--output", type=Path, default=None)
    r.add_argument("--db-url", default=None)
    r.add_argument("--approve", action="store_true", help="mark the documents issued")
    r.add_argument("--stable-wait", type=float, default=2.0)

    s = sub.add_parser(
        "serve",
        help="register the scheduled deployments and run them "
        "(needs a Prefect server: PREFECT_API_URL)",
    )
    s.add_argument("--inbox", type=Path, default=None)
    s.add_argument("--output", type=Path, default=None)
    s.add_argument("--db-url", default=None)
    s.add_argument(
        "--intake-minutes",
        type=float,
        default=None,
        help="minutes between intake runs (default 10, DATASUMMARY_INTAKE_MINUTES)",
    )

    ch = sub.add_parser(
        "chase",
        help="list (and e-mail, if SMTP is set) returns not yet "
        "accepted for the quarter whose deadline is nearest",
    )
    ch.add_argument(
        "--quarter",
        type=_quarter,
        default=None,
        help="quarter end (default: the quarter whose deadline is nearest)",
    )
    ch.add_argument("--inbox", type=Path, default=None)
    ch.add_argument("--output", type=Path, default=None)
    ch.add_argument("--db-url", default=None)
    w = sub.add_parser("watch", help="run intake whenever a workbook lands in the inbox")
    w.add_argument("--inbox", type=Path, default=None)
    w.add_argument("--output", type=Path, default=None)
    w.add_argument("--db-url", default=None)
    w.add_argument("--stable-wait", type=float, default=1.0)

    n = sub.add_parser("national", help="intake and report for every partnership in a config")
    n.add_argument("--config", type=Path, required=True, help="partnerships YAML or TOML")
    n.add_argument("--quarter", type=_quarter, default=None)
    n.add_argument("--workers", type=int, default=2, help="local Dask worker processes")
    n.add_argument("--address", default=None, help="an existing Dask scheduler's address")
    n.add_argument("--stable-wait", type=float, default=2.0)

    d = sub.add_parser("demo", help="generate sample returns and run the pipeline on them")
    d.add_argument(
        "--dir",
        type=Path,
        default=Path("output") / "demo",
        help="a fresh folder for the demo (replaced if it holds an earlier demo)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
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

    try:
        return handler(args)
    except Exception as exc:  # the environment, not the data: one line, no traceback
        store = getattr(args, "db_url", None) or os.environ.get("DATASUMMARY_DB_URL")
        if store is None and hasattr(args, "output"):  # the SQLite store's folder
            store = str((args.output or default_output()) / "state")
        line = environment_fault(exc, store)
        if line is None or os.environ.get("DATASUMMARY_DEBUG"):
            raise
        print(f"datasummary {args.command}: {line}", file=sys.stderr)
        return 1


def _templates(args: argparse.Namespace) -> int:
    from transforms.intake.templates import write_templates

    for path in write_templates(args.quarter, args.out):
        print(path)
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
    from flows.intake import intake_flow

    result = intake_flow(
        inbox=(args.inbox or default_inbox()).resolve(),
        output=(args.output or default_output()).resolve(),
        db_url=args.db_url,
        stable_wait=args.stable_wait,
    )
    for p in result.processed:
        print(
            f"{p.original_name}: {p.status} ({_count(p.errors, 'error')}, "
            f"{_count(p.warnings, 'warning')})"
        )
    for row in result.passed_over():
        print(f"{row['file']}: not filed: {row['reason']}")
    print(f"{len(result.processed)} workbook(s) filed")
    return 0


def _count(n: int, word: str) -> str:
    """'1 error', '2 errors'."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _run(args: argparse.Namespace) -> int:
    from flows.quarterly import quarterly_flow
    from transforms.quarters import latest_due_quarter

    quarter = args.quarter or latest_due_quarter(dt.date.today())
    paths = quarterly_flow(
        quarter_end=quarter,
        inbox=(args.inbox or default_inbox()).resolve(),
        output=(args.output or default_output()).resolve(),
        db_url=args.db_url,
        approve=args.approve,
        stable_wait=args.stable_wait,
    )
    for path in paths.values():
        print(path)
    return 0


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
    import logging

    from flows.watch import watch_inbox

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
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
    from flows.national import national_flow
    from transforms.quarters import latest_due_quarter

    quarter = args.quarter or latest_due_quarter(dt.date.today())
    for r in national_flow(
        args.config,
        quarter,
        workers=args.workers,
        address=args.address,
        stable_wait=args.stable_wait,
    ):
        print(f"{r['name']}: version {r['version']}, {r['paths']['docx']}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    import shutil

    from flows.demo import demo_flow

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
    paths = demo_flow(base)
    print("Documents:")
    for path in paths.values():
        print(f"  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
