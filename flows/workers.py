"""Local Dask workers that start with what a partnership needs already imported.

A spawned worker imports GX, pandas and matplotlib itself when its first partnership
arrives: two workers did it twice, at the same time, on the same two cores, after the flow
had set up. Local workers are forked instead from one fork server (the standard library's
`multiprocessing.forkserver`, which Dask supports), which imports `flows.worker_imports`
once, as soon as a national run starts, while Prefect is still being imported and the flow
run set up. A cluster given by `--address` is the operator's, started their way.

This module imports nothing heavy: the command line starts the fork server before it
imports Prefect.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

#: What the fork server imports for every local worker to start with.
WORKER_PRELOAD = ["distributed", "flows.worker_imports"]


def start_worker_imports() -> None:
    """Start the fork server, which imports `WORKER_PRELOAD` (once per process)."""
    import multiprocessing
    import multiprocessing.forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload(WORKER_PRELOAD)
    multiprocessing.forkserver.ensure_running()


#: Dask settings of the local workers (a Nanny hands its config to the worker it starts).
LOCAL_WORKER_CONFIG = {
    "distributed.worker.multiprocessing-method": "forkserver",
    # Dask's statistical profiler samples each worker's stack every 10 ms for a dashboard
    # that local clusters do not serve: measured, 4-6 s of a 4-partnership run's ~80 s of CPU.
    "distributed.worker.profile.enabled": False,
}


@contextlib.contextmanager
def preloaded_workers() -> Iterator[None]:
    """Within the block, local Dask workers are forked from the fork server, unprofiled."""
    import dask
    import distributed  # noqa: F401 - its config first: the set below must not create it

    start_worker_imports()
    with dask.config.set(LOCAL_WORKER_CONFIG):
        yield


def local_cluster(workers: int) -> dict[str, Any]:
    """A local cluster's arguments: `workers` single-threaded processes, no dashboard.

    A worker forked from the fork server has the environment the server started with
    (the first run's in this process), so each is given this run's environment.
    """
    return {
        "n_workers": workers,
        "threads_per_worker": 1,
        "processes": True,
        "dashboard_address": None,
        "env": dict(os.environ),
    }
