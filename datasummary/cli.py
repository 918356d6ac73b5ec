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

from datasummary.commands import parser
from datasummary.console import console_logging, console_shows_info
from datasummary.settings import default_inbox, default_output, quiet_environment

#: The first stage of a command that runs a flow: importing Prefect, starting its local API.
STARTING = "starting Prefect"


def _flag(args: argparse.Namespace, name: str) -> bool:
    return bool(getattr(args, name, False))


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; the exit code is in EXIT_CODES."""
    args = parser().parse_args(argv)
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

    console_shows_info()
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
    if not args.address:  # local workers: their imports start now, beside Prefect's
        from flows.workers import start_worker_imports

        start_worker_imports()
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
