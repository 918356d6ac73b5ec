"""The demo: a synthetic partnership's returns arrive quarter by quarter, then a report.

Files are dropped into the inbox in the order and at the (simulated) time the sample says
they arrived, and intake runs at each arrival, so lateness, the resubmission and the faulty
workbooks behave as they would in a real shared folder.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from datasummary.settings import Settings
from flows.intake import file_new_returns
from flows.progress import reporter, reporting_to
from flows.quarterly import quarterly_flow


@flow(name="demo", flow_run_name="demo")
def demo_flow(base: Path, approve: bool = True) -> dict[str, Path]:
    """Generate the sample into `base`, replay its deliveries, report its last quarter."""
    from transforms.progress import no_progress
    from transforms.sample import generate_sample
    from transforms.sample.replay import replay

    base = Path(base)
    report = reporter()
    report("generating the sample returns", 0, None)
    sample = generate_sample(base / "sample")
    inbox, output = base / "inbox", base / "output"
    settings = Settings(inbox=inbox, output=output)
    with reporting_to(no_progress):  # one stage for the replay, not one per arrival
        last_arrival = replay(
            sample, inbox, lambda now: file_new_returns(settings, now, 0.0), progress=report
        )
    last_quarter = max(d.quarter_end for d in sample.deliveries)
    return quarterly_flow(
        quarter_end=last_quarter,
        inbox=inbox,
        output=output,
        approve=approve,
        approved_by="demo",
        now=last_arrival,
        stable_wait=0.0,
        run_intake=False,
    )
