"""Report inputs larger than `example_inputs()`: every spec measure with a series, so the
small multiples run over several pages and every table is long."""

from __future__ import annotations

import dataclasses

import pandas as pd

from transforms.measures.disclosure import public_measures
from transforms.reports.inputs import ReportInputs, example_inputs


def many_measures_inputs(public: bool = False, **changes) -> ReportInputs:
    """The example quarter with H01's headline series copied to every spec measure that
    has none (Red and Amber alternately, with run-chart signals), so there are 24 charts."""
    base = example_inputs(spec=changes.pop("spec", None))
    spec = base.spec
    frame = base.measures.copy()
    h01 = frame[(frame["measure_id"] == "H01") & (frame["breakdown"] == "all")]
    have = set(frame["measure_id"])
    copies = []
    for k, m in enumerate(mm for mm in spec.measures.measures if mm.id not in have):
        c = h01.copy()
        c["measure_id"] = m.id
        last = c["quarter_end"] == c["quarter_end"].max()
        c.loc[last, "rag"] = "Red" if k % 2 == 0 else "Amber"
        c.loc[last, "signal"] = "shift" if k % 3 == 0 else "trend"
        copies.append(c)
    frame = pd.concat([frame, *copies], ignore_index=True)
    if public:
        frame = public_measures(frame, spec)
    return dataclasses.replace(base, measures=frame, public=public, **changes)
