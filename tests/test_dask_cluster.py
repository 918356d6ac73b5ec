"""The national run on a real Dask cluster, started the way operators start one.

`dask scheduler` and `dask worker` run as their own processes (docs/operations.md, "A
national run on a Dask cluster"); the flow is given the scheduler's address. Each
partnership must run in a worker process and give the figures of a plain sequential run.
"""

from __future__ import annotations

import filecmp
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_national import NOW, QUARTER, _partnerships
from transforms.partnerships import write_partnerships

pytestmark = [pytest.mark.slow, pytest.mark.prefect]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _dask(*args: str, log: Path) -> subprocess.Popen:
    """`dask ARGS` from this environment, as an operator would type it."""
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("dask")), *args],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


@pytest.fixture
def dask_cluster(tmp_path):
    """A scheduler and a two-process worker on localhost: (address, worker pids)."""
    from distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [
        _dask(
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-dashboard",
            log=tmp_path / "scheduler.log",
        )
    ]
    try:
        procs.append(
            _dask(
                "worker",
                address,
                "--nworkers",
                "2",
                "--nthreads",
                "1",
                "--no-dashboard",
                log=tmp_path / "worker.log",
            )
        )
        with Client(address, timeout=60) as client:
            deadline = time.monotonic() + 120
            while len(client.scheduler_info()["workers"]) < 2:
                assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
                time.sleep(0.5)
            pids = set(client.run(os.getpid).values())
        yield address, pids
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(timeout=60)


def test_a_national_run_on_a_running_cluster_gives_the_sequential_figures(
    tmp_path, prefect_harness, dask_cluster
):
    from flows.national import national_flow, run_partnership

    address, worker_pids = dask_cluster
    names = ["Alpha Partnership", "Beta Partnership"]
    seq = _partnerships(tmp_path / "seq", names)
    for p in seq:
        run_partnership(p, QUARTER, now=NOW, stable_wait=0.0)
    par = _partnerships(tmp_path / "par", names)
    config = write_partnerships(tmp_path / "par" / "partnerships.yaml", par)

    results = national_flow(config, QUARTER, address=address, now=NOW, stable_wait=0.0)

    assert [r["name"] for r in results] == names
    assert {r["worker_pid"] for r in results} <= worker_pids  # ran in the cluster's workers
    assert os.getpid() not in {r["worker_pid"] for r in results}
    for a, b in zip(seq, par, strict=True):
        left, right = (x.output / "2022-09-30" / "measures.csv" for x in (a, b))
        assert left.stat().st_size > 0 and filecmp.cmp(left, right, shallow=False)
        assert (b.output / "2022-09-30" / "Data_Summary_2022-09-30.docx").stat().st_size > 0
