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


#: Dask settings of a local cluster: its scheduler and nannies (in this process) read them
#: as they start, and a nanny hands them to the worker it starts. A local cluster serves no
#: dashboard, so what only feeds one is off or slowed. Measured on a 4-partnership run:
#: the profiler, which samples each worker's stack every 10 ms, used 4-6 s of the
#: partnerships' ~80 s of CPU; the resource monitors (every 0.5 s) and loop ticks (every
#: 20 ms) of the scheduler and nannies, 1.5-4 s of this process's 6.7-9.3 s.
LOCAL_CLUSTER_CONFIG = {
    "distributed.worker.multiprocessing-method": "forkserver",
    "distributed.worker.profile.enabled": False,
    "distributed.admin.system-monitor.interval": "10s",
    "distributed.admin.tick.interval": "1s",  # still tells of a loop blocked > tick.limit
}


@contextlib.contextmanager
def preloaded_workers() -> Iterator[None]:
    """Within the block, local Dask clusters fork their workers from the fork server and
    run no more monitoring than they use (`LOCAL_CLUSTER_CONFIG`)."""
    import dask
    import distributed  # noqa: F401 - its config first: the set below must not create it

    start_worker_imports()
    with dask.config.set(LOCAL_CLUSTER_CONFIG):
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
