"""Does progress reporting slow intake? Time `run_intake` on ~100 generated workbooks.

Each repetition files a fresh copy of the same inbox into a fresh output folder, once with
no progress callable (the default) and once with the plain stage-line renderer the command
line uses off a terminal (written to /dev/null), alternating so load drifts hit both. It also
counts the callback's calls and times that many calls on their own.

    .venv/bin/python scripts/progress_overhead.py [REPEATS]

Uses tests/returns_builder.py (run from the repository root). Not part of the test suite.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from datasummary.progress import StageLines  # noqa: E402
from tests.returns_builder import valid_sheets, write_workbook  # noqa: E402
from transforms.intake.filing import run_intake  # noqa: E402
from transforms.progress import no_progress  # noqa: E402
from transforms.quarters import previous_quarter  # noqa: E402
from transforms.spec import default_spec  # noqa: E402
from transforms.store.db import create_all, make_engine, sqlite_url  # noqa: E402


def quarter_ends(last: dt.date, n: int) -> list[dt.date]:
    """The `n` quarter ends up to `last`, earliest first."""
    out = [last]
    while len(out) < n:
        out.insert(0, previous_quarter(out[0]))
    return out


def make_inbox(folder: Path) -> int:
    """9 submitters x 11 quarters of valid returns, plus a few rejected ones."""
    folder.mkdir(parents=True)
    codes = [s.code for s in default_spec().returns.submitters]
    n = 0
    for qe in quarter_ends(dt.date(2022, 6, 30), 11):
        for code in codes:
            write_workbook(valid_sheets(code, qe), folder / f"{code}_{qe}.xlsx")
            n += 1
    for code in ("CSW", "EDU", "NHSG"):
        bad = valid_sheets(code, dt.date(2022, 9, 30))
        sheet = next(s for s in bad if s not in ("Cover", "Guidance"))
        bad[sheet][1][-2] = "lots"
        write_workbook(bad, folder / f"{code}_bad.xlsx")
        n += 1
    return n


def one_intake(inbox: Path, work: Path, progress) -> tuple[float, int]:
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(inbox, work / "inbox")
    engine = make_engine(sqlite_url(work / "out"))
    create_all(engine)
    now = dt.datetime(2023, 1, 15, tzinfo=dt.UTC)
    start = time.perf_counter()
    result = run_intake(
        work / "inbox", work / "out", engine, now=now, stable_wait=0.0, progress=progress
    )
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed, len(result.processed)


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    base = Path(tempfile.mkdtemp(prefix="progress-overhead-"))
    n = make_inbox(base / "inbox")
    calls = [0]
    devnull = open(os.devnull, "w")  # noqa: SIM115
    lines = StageLines(devnull)

    def counted(stage: str, done: int, total: int | None) -> None:
        calls[0] += 1
        lines(stage, done, total)

    one_intake(base / "inbox", base / "warm", no_progress)  # imports, GX set-up, caches
    times: dict[str, list[float]] = {"none": [], "stage lines": []}
    for _ in range(repeats):
        for name, progress in (("none", no_progress), ("stage lines", counted)):
            elapsed, filed = one_intake(base / "inbox", base / "run", progress)
            assert filed == n, (filed, n)
            times[name].append(elapsed)
    per_run = calls[0] // repeats
    start = time.perf_counter()
    for i in range(per_run):
        counted("filing and writing feedback", i, per_run)
    alone = time.perf_counter() - start
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()}")
    print(f"{n} workbooks, {repeats} repeats each, alternating")
    for name, ts in times.items():
        print(f"  {name:<12} median {statistics.median(ts):.2f}s  runs {[round(t, 2) for t in ts]}")
    print(f"  callback calls per intake: {per_run}; those calls alone: {alone * 1000:.3f} ms")
    shutil.rmtree(base)


if __name__ == "__main__":
    main()
