"""The demo: a synthetic partnership's returns arrive quarter by quarter, then a report.

Files are dropped into the inbox in the order and at the (simulated) time the sample says
they arrived, and intake runs at each arrival, so lateness, the resubmission and the faulty
workbooks behave as they would in a real shared folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from prefect import flow

from datasummary.settings import Settings
from flows.intake import file_new_returns
from flows.quarterly import quarterly_flow


@flow(name="demo", flow_run_name="demo")
def demo_flow(base: Path, approve: bool = True) -> dict[str, Path]:
    """Generate the sample into `base`, replay its deliveries, report its last quarter."""
    from transforms.sample import generate_sample

    base = Path(base)
    sample = generate_sample(base / "sample")
    inbox, output = base / "inbox", base / "output"
    inbox.mkdir(parents=True, exist_ok=True)
    settings = Settings(inbox=inbox, output=output)
    deliveries = sorted(sample.deliveries, key=lambda d: (d.arrival, d.file.name))
    for arrival, group in _by_arrival(deliveries):
        for d in group:
            target = inbox / d.file.name
            shutil.copy2(d.file, target)
        file_new_returns(settings, arrival, 0.0)
    last = max(d.quarter_end for d in deliveries)
    now = max(d.arrival for d in deliveries)
    return quarterly_flow(quarter_end=last, inbox=inbox, output=output, approve=approve,
                          approved_by="demo", now=now, stable_wait=0.0, run_intake=False)


def _by_arrival(deliveries):
    """Deliveries grouped by arrival time, in order."""
    groups: dict = {}
    for d in deliveries:
        groups.setdefault(d.arrival, []).append(d)
    return sorted(groups.items())
