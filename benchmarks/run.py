"""The performance benchmark: one command, every target measured in the same run.

    uv run python -m benchmarks.run --partnerships 32 --quarters 13 --history-quarters 40 \
        --workers 2 --workdir /tmp/ds-bench

The workload (sample partnerships generated in parallel processes) is cached in
WORKDIR/workload and reused by later runs with the same parameters; every stage works on
fresh copies in WORKDIR/run. Each stage runs in its own process (`benchmarks.stages`) so its
CPU time and peak RSS are its own. The intake and quarterly stages run `--repeat` times (whole
passes) and the fastest pass of each stage is reported, with every pass's time beside it.
The national flow runs on 1 and on `--workers` Dask workers in `--national-pairs` pairs,
alternating which goes first; each pair gives one speed-up.
Results are printed and written to WORKDIR/results.json; docs/benchmarks.md explains them.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime as dt
import filecmp
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.targets import judged, national_ratios, pass_ratios

LAST_QUARTER = dt.date(2022, 9, 30)
READY_TIMEOUT = 300.0
SPIN = 25_000_000  # iterations of `stages.spin`: about 1.5–2.5 s of one core here


# ---------------------------------------------------------------- workload
def quarters_back(last: dt.date, n: int) -> dt.date:
    """The quarter end `n - 1` quarters before `last` (so `n` quarters in all)."""
    month = last.year * 12 + last.month - 1 - 3 * (n - 1)
    year, m = divmod(month, 12)
    nxt = dt.date(year + (m + 1) // 12, (m + 1) % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _generate(folder: str, name: str, first: str, last: str) -> int:
    from transforms.sample import generate_sample

    sample = generate_sample(
        Path(folder),
        first=dt.date.fromisoformat(first),
        last=dt.date.fromisoformat(last),
        partnership=name,
    )
    return len(sample.deliveries)


def workload(
    workdir: Path, partnerships: int, quarters: int, history: int, workers: int
) -> dict[str, Any]:
    """Generate (or reuse) the sample folders; returns name -> folder and timings."""
    first = quarters_back(LAST_QUARTER, quarters)
    wanted = {f"Partnership {i + 1:02d}": (first, f"p{i + 1:02d}") for i in range(partnerships)}
    wanted["History"] = (quarters_back(LAST_QUARTER, history), "history")
    todo = {}
    for name, (start, slug) in wanted.items():
        folder = workdir / "workload" / slug
        key = {"name": name, "first": start.isoformat(), "last": LAST_QUARTER.isoformat()}
        marker = folder / ".benchmark-key.json"
        if not (marker.exists() and json.loads(marker.read_text()) == key):
            todo[name] = (folder, key)
    t0 = time.perf_counter()
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {
            name: pool.submit(_generate, str(folder), name, key["first"], key["last"])
            for name, (folder, key) in todo.items()
        }
        for name, fut in futures.items():
            fut.result()
            folder, key = todo[name]
            (folder / ".benchmark-key.json").write_text(json.dumps(key))
    folders = {name: workdir / "workload" / slug for name, (_, slug) in wanted.items()}
    return {"folders": folders, "generated": len(todo), "generate_s": time.perf_counter() - t0}


def fresh_copy(sample: Path, dest: Path) -> tuple[Path, Path]:
    """A new inbox (the sample's workbooks, mtimes kept) and an empty output."""
    shutil.rmtree(dest, ignore_errors=True)
    inbox, output = dest / "inbox", dest / "output"
    inbox.mkdir(parents=True)
    output.mkdir()
    for f in sorted((sample / "inbox").glob("*.xlsx")):
        shutil.copy2(f, inbox / f.name)
    return inbox, output


# ---------------------------------------------------------------- stages
def stage_env() -> dict[str, str]:
    """The environment of every measured process: quiet, no analytics, bytecode cached.

    An installed program imports cached bytecode; a machine that sets
    PYTHONDONTWRITEBYTECODE would instead recompile ~1,800 modules (seconds) in every
    process and measure that, so the stages run without it (see `warm_bytecode`).
    """
    env = {
        **os.environ,
        "PREFECT_LOGGING_LEVEL": "ERROR",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "GX_ANALYTICS_ENABLED": "false",
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def warm_bytecode() -> float:
    """Compile the project and its installed libraries to bytecode once, as an install does."""
    import site
    import sysconfig

    t0 = time.perf_counter()
    root = Path(__file__).resolve().parent.parent
    dirs = {sysconfig.get_paths()["purelib"], *site.getsitepackages()}
    dirs |= {str(root / d) for d in ("transforms", "flows", "datasummary", "benchmarks")}
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", *sorted(dirs)],
        env=stage_env(),
        capture_output=True,
        check=False,
    )
    return time.perf_counter() - t0


def stage(
    name: str, args: Any, profile_to: Path | None = None, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run one stage in a fresh process; its measurements, the process's own wall time and
    the CPU time the hypervisor stole from this machine meanwhile (a drifting VM shows it)."""
    from benchmarks.stages import PROFILE_ENV

    env = {**stage_env(), **(env or {})}
    if profile_to is not None:
        env[PROFILE_ENV] = str(profile_to)
    steal0 = _steal_ticks()
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.stages", name, json.dumps(args)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    process_s = time.perf_counter() - t0
    stolen = (_steal_ticks() - steal0) / os.sysconf("SC_CLK_TCK")
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"stage {name} failed:\n{proc.stderr[-4000:]}")
    out: dict[str, Any] = json.loads(lines[-1][6:])
    out["process_s"] = process_s
    out["steal_share"] = stolen / (process_s * (os.cpu_count() or 1))
    return out


def _steal_ticks() -> int:
    """Ticks stolen from this VM's CPUs by the hypervisor so far (/proc/stat; 0 elsewhere)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
        return int(fields[8])
    except (OSError, IndexError, ValueError):
        return 0


def timed_command(argv: list[str], repeat: int = 3) -> float:
    """Best wall time of `repeat` runs of a command (start-up cost)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=False, env=stage_env())
        best = min(best, time.perf_counter() - t0)
    return best


def startup(sample_file: Path) -> dict[str, Any]:
    """`python -c pass`, `datasummary --help` and `datasummary check FILE`, and their imports."""
    py = sys.executable
    cli = [py, "-m", "datasummary.cli"]
    return {
        "python_pass_s": timed_command([py, "-c", "pass"]),
        "help_s": timed_command([*cli, "--help"]),
        "check_s": timed_command([*cli, "check", str(sample_file)]),
        "help_imports": stage("imports", [["--help"]])["result"]["imported"],
        "check_imports": stage("imports", [["check", str(sample_file)]])["result"]["imported"],
    }


def drop_to_feedback(sample: Path, dest: Path, drops: int = 2) -> list[float]:
    """Seconds from copying a workbook into a watched inbox to its feedback file appearing."""
    shutil.rmtree(dest, ignore_errors=True)
    inbox, output, ready = dest / "inbox", dest / "output", dest / "ready"
    inbox.mkdir(parents=True)
    args = json.dumps({"inbox": str(inbox), "output": str(output), "ready": str(ready)})
    env = stage_env()
    log = dest / "watch.log"  # outside the inbox, so it wakes nothing
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.stages", "watch", args],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
        )
    from transforms.intake.feedback_place import feedback_paths

    times = []
    try:
        _wait_for(ready, proc, log)
        files = sorted((sample / "inbox").glob("*.xlsx"))[:drops]
        for f in files:
            t0 = time.perf_counter()
            tmp = inbox / f".{f.name}.part"  # copied then renamed, as a share would
            shutil.copy2(f, tmp)
            os.replace(tmp, inbox / f.name)
            _wait_for(feedback_paths(inbox, f.name)[0], proc, log)
            times.append(time.perf_counter() - t0)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return times


def _wait_for(path: Path, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Wait for the watcher to write `path`; if it stops or stalls, say why, with its output."""
    deadline = time.perf_counter() + READY_TIMEOUT
    while not path.exists():
        code = proc.poll()
        if code is not None or time.perf_counter() > deadline:
            why = f"exited with {code}" if code is not None else f"{READY_TIMEOUT:.0f} s passed"
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"watcher never produced {path.name} ({why}); its output:\n{tail}")
        time.sleep(0.05)


# ---------------------------------------------------------------- the run
def run(
    partnerships: int,
    quarters: int,
    history: int,
    workers: int,
    workdir: Path,
    national_partnerships: int,
    batch_size: int = 4000,
    compile_bytecode: bool = True,
    repeat: int = 3,
    national_pairs: int = 2,
) -> dict[str, Any]:
    """Every measurement of docs/benchmarks.md, in one run."""

    workdir = workdir.resolve()
    compile_s = warm_bytecode() if compile_bytecode else None
    wl = workload(workdir, partnerships, quarters, history, workers)
    folders = wl["folders"]
    names = [n for n in folders if n != "History"]
    res: dict[str, Any] = {
        "machine": machine(),
        "params": {
            "partnerships": partnerships,
            "quarters": quarters,
            "history_quarters": history,
            "workers": workers,
            "national_partnerships": national_partnerships,
            "batch_size": batch_size,
            "repeat": repeat,
            "national_pairs": national_pairs,
        },
        "workload": {"generated": wl["generated"], "generate_s": wl["generate_s"]},
        "bytecode_compile_s": compile_s,
    }
    run_dir = workdir / "run"
    q = LAST_QUARTER.isoformat()
    runs: dict[str, list[dict[str, Any]]] = {}
    res["two_cores"] = []
    for _ in range(max(repeat, 1)):  # whole sequences, so drift hits every stage alike
        res["two_cores"].append(two_cores())
        for name, measured in sequence(folders, names, run_dir, q, batch_size).items():
            runs.setdefault(name, []).append(measured)
    for name, passes in runs.items():
        res[name] = best_of(passes)
    res["passes"] = pass_ratios(runs)
    pairs = [(run_dir / folders[n].name / "inbox", None) for n in names]
    res["workload"]["workbooks"] = sum(len(list(i.glob("*.xlsx"))) for i, _ in pairs)
    res["profiles"] = profiles(folders, names, run_dir / "profiled", q, batch_size)
    res["national"] = national(
        folders, names[:national_partnerships], run_dir, q, workers, national_pairs
    )
    sample_file = sorted((folders[names[0]] / "inbox").glob("*.xlsx"))[0]
    res["startup"] = startup(sample_file)
    res["drop_to_feedback_s"] = drop_to_feedback(folders[names[0]], run_dir / "watch")
    res["ratios"] = ratios(res)
    res["targets"] = judged(res["passes"], res["ratios"])
    return res


def two_cores(n: int = SPIN) -> dict[str, Any]:
    """What the machine's second core is worth now: the same plain interpreter work in one
    process alone, then in two at once, then alone again (the mean of the two alone runs is
    the one-core rate, as this VM's speed drifts within a minute). `capacity` is the work
    done per second by the two against the one: 2.0 on two whole cores, less on a VM whose
    cores share a physical one or on a busy host; no speed-up from two processes in this
    pass can exceed it.
    """
    before = stage("spin", {"n": n})["wall_s"]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(stage, "spin", {"n": n}) for _ in range(2)]
        together = [f.result()["wall_s"] for f in futures]
    after = stage("spin", {"n": n})["wall_s"]  # alone before and after: the VM drifts
    alone = (before + after) / 2
    return {
        "alone_s": [round(before, 3), round(after, 3)],
        "together_s": [round(t, 3) for t in together],
        "capacity": round(2 * alone / max(together), 3),
    }


def profiles(
    folders: dict[str, Path], names: list[str], base: Path, quarter: str, batch_size: int
) -> dict[str, list[dict[str, Any]]]:
    """One extra pass of the floor, cold intake and the quarterly stage under cProfile:
    where each stage's time goes (not timed: profiling slows Python code unevenly).

    The pass runs on one core (`DATASUMMARY_PROCESSES=1`), so that the work forked
    children would do (charts, documents) is done, and profiled, in the stage's process.
    """
    from benchmarks.profiles import top_functions

    pairs = [fresh_copy(folders[n], base / folders[n].name) for n in names]
    i0, o0 = pairs[0]
    runs = {
        "read_floor": ("read_floor", [[str(i) for i, _ in pairs]]),
        "intake_cold": (
            "intake",
            {"folders": [[str(i), str(o)] for i, o in pairs], "batch_size": batch_size},
        ),
        "quarterly_13": (
            "quarterly",
            {"name": names[0], "inbox": str(i0), "output": str(o0), "quarter": quarter},
        ),
    }
    out = {}
    for label, (name, args) in runs.items():
        prof = base / f"{label}.prof"
        stage(name, args, profile_to=prof, env={"DATASUMMARY_PROCESSES": "1"})
        out[label] = top_functions(prof)
    return out


def national(
    folders: dict[str, Path],
    sub: list[str],
    run_dir: Path,
    quarter: str,
    workers: int,
    pairs: int = 2,
) -> dict[str, Any]:
    """The national flow on `sub` with 1 and `workers` Dask workers, against a Prefect
    server started beforehand (as operators run it), and the same partnerships' stages
    run one by one in their own processes, each on one core as in a worker (what the flow
    is compared with).

    The two worker counts run in `pairs` pairs, alternating which goes first (1 then
    `workers`, then `workers` then 1, ...): each pair gives one speed-up, from two runs
    minutes apart, so a drift in the machine's speed favours neither side every time.
    """
    from transforms.partnerships import Partnership, write_partnerships

    if not sub:
        return {}
    out: dict[str, Any] = {"partnerships": len(sub)}
    alone = []
    one_core = {"DATASUMMARY_PROCESSES": "1"}  # as in a worker: one core's share
    for n in sub:
        inbox, output = fresh_copy(folders[n], run_dir / "alone" / folders[n].name)
        i = stage(
            "intake", {"folders": [[str(inbox), str(output)]], "batch_size": 4000}, env=one_core
        )
        qs = stage(
            "quarterly",
            {"name": n, "inbox": str(inbox), "output": str(output), "quarter": quarter},
            env=one_core,
        )
        alone.append(i["wall_s"] + qs["wall_s"])
    out["stage_sum_s"] = sum(alone)
    counts = sorted({1, workers})
    runs: dict[int, list[dict[str, Any]]] = {w: [] for w in counts}
    walls: list[dict[str, float]] = []  # each pair's wall times, in the order run
    work_cpu: list[dict[str, float | None]] = []  # and the partnerships' CPU in each run
    identical = []
    with prefect_server(run_dir / "prefect") as api_url:
        for pair in range(max(pairs, 1)):
            csvs = {}
            walls.append({})
            work_cpu.append({})
            for w in counts if pair % 2 == 0 else counts[::-1]:
                base = run_dir / f"national-{w}"
                shutil.rmtree(base, ignore_errors=True)
                plist = []
                for n in sub:
                    inbox, output = fresh_copy(folders[n], base / folders[n].name)
                    plist.append(Partnership(name=n, inbox=inbox, output=output))
                config = write_partnerships(base / "partnerships.yaml", plist)
                measured = stage(
                    "national",
                    {"config": str(config), "quarter": quarter, "workers": w},
                    env={"PREFECT_API_URL": api_url},
                )
                runs[w].append(measured)
                walls[-1][str(w)] = measured["wall_s"]
                cpu = measured["result"].get("partnership_cpu_s")
                work_cpu[-1][str(w)] = None if cpu is None else round(cpu, 1)
                csvs[w] = [p.output / quarter / "measures.csv" for p in plist]
            identical.append(
                all(
                    filecmp.cmp(a, b, shallow=False)
                    for a, b in zip(csvs[1], csvs[workers], strict=True)
                )
            )
    for w, all_runs in runs.items():
        out[str(w)] = best_of(all_runs)
    out["pairs"] = walls
    out["pairs_partnership_cpu_s"] = work_cpu
    out["measures_identical"] = all(identical)
    return out


@contextlib.contextmanager
def prefect_server(home: Path) -> Iterator[str]:
    """A local Prefect server (own PREFECT_HOME, localhost, analytics off); its API URL."""
    import socket
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    env = stage_env() | {"PREFECT_HOME": str(home)}
    log = (home / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "prefect",
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--analytics-off",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.perf_counter() + READY_TIMEOUT
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.perf_counter() > deadline:
                    raise RuntimeError(f"the Prefect server did not start; see {home}") from None
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def sequence(
    folders: dict[str, Path], names: list[str], run_dir: Path, quarter: str, batch_size: int
) -> dict[str, dict[str, Any]]:
    """One pass of the measured stages, on fresh copies: read floor, cold intake, re-run,
    the quarterly run on 13 quarters, then intake and the quarterly run on 40."""
    pairs = [fresh_copy(folders[n], run_dir / folders[n].name) for n in names]
    out = {"read_floor": stage("read_floor", [[str(i) for i, _ in pairs]])}
    as_args = [[str(i), str(o)] for i, o in pairs]
    out["intake_cold"] = stage("intake", {"folders": as_args, "batch_size": batch_size})
    out["intake_rerun"] = stage("intake", {"folders": as_args, "batch_size": batch_size})
    i0, o0 = pairs[0]
    out["quarterly_13"] = stage(
        "quarterly", {"name": names[0], "inbox": str(i0), "output": str(o0), "quarter": quarter}
    )
    hi, ho = fresh_copy(folders["History"], run_dir / "history")
    out["intake_history"] = stage(
        "intake", {"folders": [[str(hi), str(ho)]], "batch_size": batch_size}
    )
    out["quarterly_history"] = stage(
        "quarterly", {"name": "History", "inbox": str(hi), "output": str(ho), "quarter": quarter}
    )
    return out


def best_of(measured: list[dict[str, Any]]) -> dict[str, Any]:
    """The repeat with the least wall time (this VM's speed drifts by tens of per cent
    between minutes), with every repeat's wall time and the highest peak memory beside it."""
    best = min(measured, key=lambda m: m["wall_s"])
    return {
        **best,
        "runs_wall_s": [round(m["wall_s"], 3) for m in measured],
        "peak_rss_mib_max": max(m["peak_rss_mib"] for m in measured),
    }


def ratios(res: dict[str, Any]) -> dict[str, Any]:
    """The targets' measures from the fastest passes and the one-off measurements."""
    floor = res["read_floor"]["wall_s"]
    cold = res["intake_cold"]["wall_s"]
    return {
        "cold_intake_over_read_floor": cold / floor,
        "quarterly_13_over_read_floor": res["quarterly_13"]["wall_s"] / floor,
        "rerun_over_cold": res["intake_rerun"]["wall_s"] / cold,
        "quarterly_history_over_13": (
            res["quarterly_history"]["wall_s"] / res["quarterly_13"]["wall_s"]
        ),
        "intake_peak_rss_mib": max(
            res["intake_cold"]["peak_rss_mib_max"], res["intake_history"]["peak_rss_mib_max"]
        ),
        "max_drop_to_feedback_s": max(res["drop_to_feedback_s"]),
        **national_ratios(res["national"]),
        "help_heavy_imports": float(len(res["startup"]["help_imports"])),
        "help_over_python": res["startup"]["help_s"] / res["startup"]["python_pass_s"],
        "check_over_python": res["startup"]["check_s"] / res["startup"]["python_pass_s"],
    }


def machine() -> dict[str, Any]:
    """Where the numbers came from."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem, 1),
        "python": platform.python_version(),
        "system": platform.platform(),
        "date": dt.date.today().isoformat(),
    }


def report(res: dict[str, Any]) -> str:
    """The printed summary: stages, targets pass by pass, and where the time goes."""
    from benchmarks.profiles import profile_lines

    lines = [
        f"machine: {res['machine']}",
        f"params: {res['params']}",
        f"workload: {res['workload']}",
        "",
        f"{'stage':<22}{'wall s':>10}{'cpu s':>10}{'peak MiB':>10}{'process s':>11}"
        f"{'steal':>7}  every pass (wall s)",
    ]
    rows = [
        "read_floor",
        "intake_cold",
        "intake_rerun",
        "quarterly_13",
        "intake_history",
        "quarterly_history",
    ]
    stages = [(r, res[r]) for r in rows]
    stages += [(f"national_{w}w", v) for w, v in res["national"].items() if w.isdigit()]
    for name, s in stages:
        lines.append(
            f"{name:<22}{s['wall_s']:>10.2f}{s['cpu_s']:>10.2f}"
            f"{s['peak_rss_mib']:>10.0f}{s['process_s']:>11.2f}{s['steal_share']:>7.1%}"
            f"  {s.get('runs_wall_s', '')}"
        )
    nat = res["national"]
    lines += [
        "",
        f"startup: {res['startup']}",
        f"drop to feedback (s): {[round(t, 2) for t in res['drop_to_feedback_s']]}",
        "two cores' capacity, pass by pass (two processes' work per second against one "
        f"alone; 2.0 is two whole cores): {[c['capacity'] for c in res['two_cores']]}",
        f"national: stages one by one {nat.get('stage_sum_s', 0):.2f} s; "
        f"pairs (wall s by workers, in the order run): {nat.get('pairs')}; "
        f"the partnerships' CPU s in those runs: {nat.get('pairs_partnership_cpu_s')}; "
        f"measures.csv identical across worker counts: {nat.get('measures_identical')}",
        "",
        "targets (every pass must meet them):",
    ]
    for t in res["targets"]:
        verdict = "met" if t["met"] else ("NOT MET" if t["measured"] else "not measured")
        values = ", ".join(f"{v:g}" for v in t["values"])
        lines.append(f"  {t['target']:<48} {t['op']} {t['limit']:<7g} [{values}]  {verdict}")
    lines += ["", "where the time goes:"]
    for name, top in res["profiles"].items():
        lines += profile_lines(name, top)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--partnerships", type=int, default=32)
    p.add_argument("--quarters", type=int, default=13)
    p.add_argument("--history-quarters", type=int, default=40)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument(
        "--national-partnerships",
        type=int,
        default=None,
        help="partnerships in the national (parallel) comparison; default: all; 0 skips it",
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=4000,
        help="workbooks per shared GX run (default: a national collection at once)",
    )
    p.add_argument(
        "--no-compile-bytecode",
        action="store_true",
        help="skip compiling the libraries to bytecode first (tests)",
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="passes over the intake and quarterly stages; each ratio uses the "
        "fastest pass of each stage (default 3)",
    )
    p.add_argument(
        "--national-pairs",
        type=int,
        default=2,
        help="pairs of national runs (1 worker and --workers), alternating which goes "
        "first; each pair gives one speed-up (default 2)",
    )
    p.add_argument("--workdir", type=Path, default=Path("output") / "benchmark")
    a = p.parse_args(argv)
    res = run(
        a.partnerships,
        a.quarters,
        a.history_quarters,
        a.workers,
        a.workdir,
        a.partnerships if a.national_partnerships is None else a.national_partnerships,
        a.batch_size,
        not a.no_compile_bytecode,
        a.repeat,
        a.national_pairs,
    )
    (a.workdir / "results.json").write_text(json.dumps(res, indent=2, default=str))
    print(report(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
