"""Benchmark stages, each run in its own process so peak RSS and CPU time are its own.

`python -m benchmarks.stages STAGE JSON_ARGS` runs one stage and prints one JSON line:
in-process wall time, CPU time (user + system, this process and its waited children), peak
RSS (`ru_maxrss`), and what the stage returned.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

NOW = dt.datetime(2022, 11, 15, 12, 0, tzinfo=dt.UTC)  # after the last quarter's deadline
#: When set, the stage runs under cProfile and writes its statistics to this file.
PROFILE_ENV = "DATASUMMARY_BENCH_PROFILE"


def workbooks(folder: Path) -> list[Path]:
    """The workbooks of one inbox (top level), in name order."""
    return sorted(p for p in Path(folder).glob("*.xlsx") if not p.name.startswith("~$"))


def read_floor(inboxes: list[str]) -> dict[str, Any]:
    """Read every sheet of every workbook with calamine: the cost no checking can avoid."""
    import pandas as pd

    files = sheets = 0
    for inbox in inboxes:
        for path in workbooks(Path(inbox)):
            try:
                frames = pd.read_excel(path, engine="calamine", sheet_name=None)
            except Exception:  # noqa: BLE001 - the sample's deliberately broken workbooks
                frames = {}
            files += 1
            sheets += len(frames)
    return {"files": files, "sheets": sheets}


def spin(n: int) -> dict[str, Any]:
    """Plain interpreter work and nothing else: what one core does alone, or beside another."""
    x = 0
    for i in range(n):
        x += i * i
    return {"n": n}


def intake(folders: list[list[str]], batch_size: int) -> dict[str, Any]:
    """`run_intakes` over every (inbox, output) in this one process: one worker.

    Folders keep their own stores; their pending files share GX batches of `batch_size`.
    """
    from transforms.intake.filing import IntakeFolder, run_intakes
    from transforms.store.db import make_engine, sqlite_url

    engines = [make_engine(sqlite_url(Path(output))) for _, output in folders]
    try:
        results = run_intakes(
            [IntakeFolder(Path(i), Path(o), e) for (i, o), e in zip(folders, engines, strict=True)],
            now=NOW,
            stable_wait=0.0,
            batch_size=batch_size,
        )
    finally:
        for engine in engines:
            engine.dispose()
    totals: dict[str, int] = {}
    for r in results:
        for k, v in r.counts.items():
            totals[k] = totals.get(k, 0) + v
    return totals


def quarterly(name: str, inbox: str, output: str, quarter: str) -> dict[str, Any]:
    """The quarterly pipeline (measures, tables, four documents, figures) on a filed store.

    `transforms.quarterly.produce_quarter` itself, as both flows call it: the stage is the
    pipeline's work, like the read floor is the reader's, with no orchestrator imported.
    """
    import uuid

    from transforms.quarterly import produce_quarter
    from transforms.spec import default_spec
    from transforms.store.db import make_engine, sqlite_url

    out_dir = Path(output) / quarter
    engine = make_engine(sqlite_url(Path(output)))
    try:
        out = produce_quarter(
            engine,
            default_spec(),
            dt.date.fromisoformat(quarter),
            NOW,
            out_dir,
            f"benchmark-{uuid.uuid4().hex[:12]}",
        )
    finally:
        engine.dispose()
    return {"version": out.data.version, "partnership": name}


def national(config: str, quarter: str, workers: int) -> dict[str, Any]:
    """The national flow (Prefect + Dask) over a partnerships configuration, started as
    the command line starts it: the local workers' imports first, then Prefect's."""
    from flows.workers import start_worker_imports

    start_worker_imports()
    from flows.national import national_flow

    results = national_flow(
        Path(config), dt.date.fromisoformat(quarter), workers=workers, now=NOW, stable_wait=0.0
    )
    return {
        "partnerships": len(results),
        "processed": sum(r["intake"].get("processed", 0) for r in results),
        # the workers are not this process's children: each partnership counts its own
        "partnership_cpu_s": sum(r["cpu_s"] for r in results),
    }


def imports(argv: list[str]) -> dict[str, Any]:
    """Run the CLI with `argv`; which heavy libraries did it import?"""
    import contextlib
    import io

    from datasummary.cli import main

    code: str | int | None = None
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
    heavy = ("great_expectations", "matplotlib", "prefect", "dask", "docx")
    return {"exit": code, "imported": [m for m in heavy if m in sys.modules]}


def watch(inbox: str, output: str, ready: str) -> dict[str, Any]:
    """The watcher; touches `ready` after its first intake."""
    from flows.watch import watch_inbox

    def mark(_result: Any) -> None:
        Path(ready).touch()

    return {"runs": watch_inbox(Path(inbox), Path(output), on_result=mark)}


STAGES: dict[str, Callable[..., dict[str, Any]]] = {
    "spin": spin,
    "read_floor": read_floor,
    "intake": intake,
    "quarterly": quarterly,
    "national": national,
    "imports": imports,
    "watch": watch,
}


def main() -> None:
    stage, args = sys.argv[1], json.loads(sys.argv[2])
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")
    profile_to = os.environ.get(PROFILE_ENV)
    profiler = None
    if profile_to:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    t0, c0 = time.perf_counter(), time.process_time()
    result = STAGES[stage](**args) if isinstance(args, dict) else STAGES[stage](*args)
    wall = time.perf_counter() - t0
    if profiler is not None and profile_to:
        profiler.disable()
        profiler.dump_stats(profile_to)
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = time.process_time() - c0 + kids.ru_utime + kids.ru_stime
    print(
        "BENCH "
        + json.dumps(
            {
                "wall_s": wall,
                "cpu_s": cpu,
                "peak_rss_mib": max(me.ru_maxrss, kids.ru_maxrss) / 1024,
                "minor_faults": me.ru_minflt + kids.ru_minflt,
                "result": result,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
