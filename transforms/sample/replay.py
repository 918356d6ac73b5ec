"""Replay a sample's deliveries into an inbox in arrival order, filing at each arrival.

Lateness, superseding and "first seen" order depend on when intake sees a file, so the demo
and the end-to-end tests drop each file at its simulated arrival time and run intake with
that time as its clock, as a real shared folder would see them.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

from transforms.progress import Progress, no_progress
from transforms.sample.truth import Delivery, Sample


def deliveries_by_arrival(sample: Sample) -> list[tuple[dt.datetime, list[Delivery]]]:
    """Deliveries grouped by arrival time, earliest first."""
    groups: dict[dt.datetime, list[Delivery]] = {}
    for d in sorted(sample.deliveries, key=lambda d: (d.arrival, d.file.name)):
        groups.setdefault(d.arrival, []).append(d)
    return sorted(groups.items())


def replay(
    sample: Sample,
    inbox: Path,
    file_at: Callable[[dt.datetime], object],
    until: dt.datetime | None = None,
    progress: Progress = no_progress,
) -> dt.datetime | None:
    """Copy each delivery into `inbox` (keeping its mtime) and call `file_at(arrival)`.

    Returns the last arrival replayed. `until` stops before later arrivals. `progress` is
    told of each delivery filed.
    """
    inbox.mkdir(parents=True, exist_ok=True)
    last = None
    groups = deliveries_by_arrival(sample)
    total = sum(len(group) for arrival, group in groups if until is None or arrival <= until)
    done = 0
    progress("filing the deliveries as they arrive", done, total)
    for arrival, group in groups:
        if until is not None and arrival > until:
            break
        for d in group:
            shutil.copy2(d.file, inbox / d.file.name)
        file_at(arrival)
        done += len(group)
        progress("filing the deliveries as they arrive", done, total)
        last = arrival
    return last
