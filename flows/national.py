"""Many partnerships in one flow run: intake and the quarterly documents for each, in parallel.

A partnership is configuration (`transforms.partnerships`). `national_flow` fans out one task
per partnership on a Dask task runner: a local cluster of `workers` single-threaded processes
by default (the work is CPU-bound Python, so processes, not threads), or an existing cluster
given by `address`. Partnerships share nothing (own inbox, output, store), so the result of
each is the same whatever the number of workers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows.progress import reporter
from flows.workers import local_cluster, preloaded_workers
from transforms.partnerships import Partnership, load_partnerships

#: Who a national run with --approve records as having approved each partnership's report.
NATIONAL_APPROVER = "national run"


def run_partnership(
    p: Partnership,
    quarter_end: dt.date,
    *,
    now: dt.datetime | None = None,
    stable_wait: float = 2.0,
    approve: bool = False,
    intake: bool = True,
) -> dict[str, Any]:
    """Intake, then measures.csv, returns.csv and the documents of one partnership (plain)."""
    from datasummary.settings import Settings
    from flows.common import engine_for
    from transforms.intake.filing import run_intake
    from transforms.quarterly import produce_quarter
    from transforms.quarters import london_date
    from transforms.spec import default_spec, load_spec
    from transforms.store import history

    started, cpu_before = time.time(), cpu_seconds()
    spec = load_spec(p.spec_dir) if p.spec_dir else default_spec()
    settings = Settings(inbox=p.inbox, output=p.output, db_url=p.db_url)
    now = now or dt.datetime.now(dt.UTC)
    engine = engine_for(settings)
    try:
        counts = {}
        if intake:
            filed = run_intake(
                p.inbox, p.output, engine, spec=spec, now=now, stable_wait=stable_wait
            )
            filed.raise_for_operator()  # e.g. its feedback/ is a file: this partnership fails
            counts = filed.counts
        run_id = f"national-{uuid.uuid4().hex[:16]}"
        out = produce_quarter(
            engine,
            spec,
            quarter_end,
            now,
            settings.quarter_dir(quarter_end),
            run_id,
            approved_on=london_date(now) if approve else None,
            approved_by=NATIONAL_APPROVER if approve else None,
        )
        qd, paths = out.data, out.paths
        if approve:
            with engine.begin() as conn:
                history.mark_issued(conn, quarter_end, run_id, qd.version, NATIONAL_APPROVER)
    finally:
        engine.dispose()
    return {
        "name": p.name,
        "version": qd.version,
        "intake": counts,
        "paths": {k: str(v) for k, v in paths.items()},
        "worker_pid": os.getpid(),
        "started": started,
        "finished": time.time(),
        "cpu_s": cpu_seconds() - cpu_before,
    }


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of the children it has waited for.

    A partnership's readers and forked helpers are waited for before it returns, so the
    difference across one partnership is the CPU its work used on this worker: the
    benchmark's measure of the work when the workers are not its own children.
    """
    import resource

    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


@task(name="Partnership", task_run_name="partnership-{p.name}", cache_policy=NO_CACHE)
def partnership_task(
    p: Partnership, quarter_end: dt.date, now: dt.datetime | None, stable_wait: float, approve: bool
) -> dict[str, Any]:
    """One partnership's intake and documents, on whichever worker the runner picks.

    A worker is one core's share of the run: partnerships run side by side, one per worker,
    so within a partnership nothing forks more processes (DATASUMMARY_PROCESSES=1).
    """
    with one_core():
        return run_partnership(p, quarter_end, now=now, stable_wait=stable_wait, approve=approve)


@contextlib.contextmanager
def one_core() -> Iterator[None]:
    """DATASUMMARY_PROCESSES=1 for the duration (then as it was)."""
    from transforms.forked import PROCESSES_ENV

    old = os.environ.get(PROCESSES_ENV)
    os.environ[PROCESSES_ENV] = "1"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(PROCESSES_ENV, None)
        else:
            os.environ[PROCESSES_ENV] = old


@flow(name="national", flow_run_name="national-{quarter_end}")
def _national(
    partnerships: list[Partnership],
    quarter_end: dt.date,
    now: dt.datetime | None = None,
    stable_wait: float = 2.0,
    approve: bool = False,
) -> list[dict[str, Any]]:
    futures = [
        partnership_task.submit(p, quarter_end, now, stable_wait, approve) for p in partnerships
    ]
    report, results = reporter(), []
    report("partnerships done", 0, len(futures))
    for future in futures:
        results.append(future.result())
        report("partnerships done", len(results), len(futures))
    lines = ["# National run", "", "| partnership | version | processed |", "|---|---|---|"]
    lines += [
        f"| {r['name']} | {r['version']} | {r['intake'].get('processed', 0)} |" for r in results
    ]
    create_markdown_artifact(
        key="national-summary", markdown="\n".join(lines), description=f"National run {quarter_end}"
    )
    return results


def task_runner(workers: int = 2, address: str | None = None) -> Any:
    """A Dask task runner: an existing cluster at `address`, else a local process cluster."""
    from prefect_dask import DaskTaskRunner

    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(cluster_kwargs=local_cluster(workers))


@contextlib.contextmanager
def shared_api() -> Iterator[None]:
    """One Prefect API for the flow and every Dask worker.

    Without a configured PREFECT_API_URL each worker process would start its own ephemeral
    server (measured: two servers eating the CPU the workers need, so no speed-up). Start
    one, and hand its URL to this process and, through the environment, to the workers.
    """
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if PREFECT_API_URL.value():
        yield
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start()
    old = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = server.api_url
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            try:
                yield
            finally:
                send_what_prefect_holds()
    finally:
        if old is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = old
        server.stop()


def send_what_prefect_holds() -> None:
    """Send the logs and events Prefect's background workers still hold, while the server
    runs. Left to the interpreter's exit, they found it stopped: the command printed
    "Error logging to API" and took about two minutes more to end."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()
    EventsWorker.drain_all(timeout=10)


def national_flow(
    config_path: Path,
    quarter: dt.date,
    workers: int = 2,
    address: str | None = None,
    *,
    now: dt.datetime | None = None,
    stable_wait: float = 2.0,
    approve: bool = False,
) -> list[dict[str, Any]]:
    """Run every partnership of `config_path` for `quarter` in one Prefect flow run."""
    partnerships = load_partnerships(Path(config_path))
    workers_from = contextlib.nullcontext() if address else preloaded_workers()
    with shared_api(), workers_from:
        runner = task_runner(workers, address)
        return _national.with_options(task_runner=runner)(
            partnerships, quarter, now=now, stable_wait=stable_wait, approve=approve
        )
