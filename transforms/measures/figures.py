"""The measure engine: accepted return data -> one row per measure x quarter x breakdown.

Each measure in `spec/measures.yaml` names a `kind`; one function per kind computes its
figures for one quarter, so a new measure of an existing kind is a change to data only.
Missing is never zero: a quarter with no in-force return gives a blank value with a reason.
Numbers are stored unrounded; rounding is a presentation matter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

import pandas as pd

from transforms.spec import MeasureDef, Spec

if TYPE_CHECKING:
    import numpy as np
    from pandas.api.typing import NAType

# A count as the kind functions meet it: a cell of an items or table sheet (a NumPy or Python
# number, or blank: None, pd.NA or NaN) or a sum of cells.
Count: TypeAlias = "int | float | np.integer[Any] | NAType | None"

REASON_NOT_RECEIVED = "return not received"
REASON_NOT_AVAILABLE = "not available"
REASON_ZERO_DENOMINATOR = "none in the denominator"

ALL = "all"
AT_HOME_CODE = "AT_HOME"
HA_DAYS = 28

BASE_COLUMNS = [
    "measure_id",
    "quarter_end",
    "breakdown",
    "numerator",
    "denominator",
    "value",
    "unit",
    "excluded",
    "pending",
    "reason",
]


@dataclass
class Figure:
    """One computed figure (a row of the measures frame before status is added)."""

    breakdown: str = ALL
    numerator: int | None = None
    denominator: int | None = None
    value: float | None = None
    excluded: int | None = None
    pending: int | None = None
    reason: str | None = None


@dataclass
class QuarterData:
    """What the kind functions see: the quarter, its sheet rows and whether they were sent."""

    spec: Spec
    data: Mapping[str, pd.DataFrame]
    quarter: dt.date
    _cache: dict[str, pd.DataFrame] = field(default_factory=dict)

    def rows(self, sheet: str) -> pd.DataFrame:
        """The in-force rows of `sheet` for this quarter (possibly empty)."""
        if sheet not in self._cache:
            frame = self.data.get(sheet)
            if frame is None or frame.empty:
                self._cache[sheet] = pd.DataFrame()
            else:
                qe = pd.to_datetime(frame["quarter_end"])
                self._cache[sheet] = frame.loc[qe == pd.Timestamp(self.quarter)]
        return self._cache[sheet]

    def received(self, sheet: str) -> bool:
        """Whether an in-force return carrying `sheet` exists for the quarter.

        A record sheet may be legitimately empty (a nil return is a true zero), so presence
        is judged on every sheet of the submitter that sends it: an accepted workbook always
        has rows in its items or table sheets. Progress is sent by several leads: any of
        their rows for the quarter counts.
        """
        if not self.rows(sheet).empty:
            return True
        try:
            owner = self.spec.returns.sheet_owner(sheet)
        except KeyError:  # pragma: no cover - spec cross-checks sheets
            return False
        sheets = self.spec.returns.submitter(owner).sheets
        return any(
            not (r := self.rows(s)).empty and (r["submitter"] == owner).any() for s in sheets
        )


def _blank(reason: str, breakdown: str = ALL, **counts: int | None) -> Figure:
    return Figure(breakdown=breakdown, reason=reason, **counts)


def ratio_figure(
    numerator: Count,
    denominator: Count,
    breakdown: str = ALL,
    scale: float = 100.0,
    *,
    excluded: int | None = None,
    pending: int | None = None,
) -> Figure:
    """A ratio with the blank rules: NA part -> not available; 0 denominator -> blank."""
    num = None if pd.isna(numerator) else int(numerator)
    den = None if pd.isna(denominator) else int(denominator)
    if num is None or den is None:
        return Figure(breakdown, num, den, None, excluded, pending, REASON_NOT_AVAILABLE)
    if den == 0:
        return Figure(breakdown, num, den, None, excluded, pending, REASON_ZERO_DENOMINATOR)
    return Figure(breakdown, num, den, scale * num / den, excluded, pending)


# ------------------------------------------------------------------ items sheets
def _items(q: QuarterData, sheet: str) -> dict[str, Count] | None:
    rows = q.rows(sheet)
    if rows.empty:
        return None
    return dict(zip(rows["item"], rows["value"], strict=True))


def item_ratio(m: MeasureDef, q: QuarterData) -> list[Figure]:
    """numerator item / denominator item x 100; breakdowns from `breakdown_items`."""
    items = _items(q, m.sheet)
    names = [ALL, *m.breakdowns]
    if items is None:
        return [_blank(REASON_NOT_RECEIVED, b) for b in names]
    out = [ratio_figure(items.get(m.param("numerator")), items.get(m.param("denominator")))]
    for b in m.breakdowns:
        spec = m.param("breakdown_items", {})[b]
        out.append(
            ratio_figure(items.get(spec["numerator"]), items.get(spec["denominator"]), breakdown=b)
        )
    return out


def item_value(m: MeasureDef, q: QuarterData) -> list[Figure]:
    """One item's value (a count)."""
    items = _items(q, m.sheet)
    if items is None:
        return [_blank(REASON_NOT_RECEIVED)]
    v = items.get(m.param("item"))
    if v is None or pd.isna(v):
        return [_blank(REASON_NOT_AVAILABLE)]
    return [Figure(value=float(int(v)))]


# ------------------------------------------------------------------ table sheets
def _key_column(m: MeasureDef, spec: Spec) -> str:
    key = spec.returns.sheets[m.sheet].key
    if key is None:  # pragma: no cover - spec error
        raise ValueError(f"measure {m.id}: sheet {m.sheet} has no key column")
    return key


def _select_rows(
    rows: pd.DataFrame, key: str, spec: Spec, sheet: str, sel: Mapping[str, Any]
) -> pd.DataFrame:
    """Rows of a table sheet chosen by `include`, `exclude` or code `group`.

    `sel` is a selection as the measure declares it in YAML (`MeasureDef.param`, untyped).
    """
    codes = rows[key]
    mask = pd.Series(True, index=rows.index)
    if sel.get("include"):
        mask &= codes.isin(list(sel["include"]))
    if sel.get("rows"):
        mask &= codes.isin(list(sel["rows"]))
    if sel.get("exclude"):
        mask &= ~codes.isin(list(sel["exclude"]))
    if sel.get("group"):
        col = next(c for c in spec.returns.sheets[sheet].columns if c.name == key)
        members = [c.code for c in spec.returns.codes[col.codes or ""] if c.group == sel["group"]]
        mask &= codes.isin(members)
    return rows.loc[mask]


def _sum(rows: pd.DataFrame, columns: Sequence[str]) -> int | None:
    """Sum of columns over rows; None when any cell is blank (never read as zero)."""
    block = rows[list(columns)]
    if block.isna().to_numpy().any():
        return None
    return int(block.to_numpy(dtype="int64").sum())


def table_sum(m: MeasureDef, q: QuarterData) -> list[Figure]:
    """Sum of columns over (selected) rows; `by_<key>` breakdown gives one row per code."""
    rows = q.rows(m.sheet)
    key = _key_column(m, q.spec)
    breakdown_rows = "by_" + key in m.breakdowns
    col = next(c for c in q.spec.returns.sheets[m.sheet].columns if c.name == key)
    codes = q.spec.returns.code_values(col.codes or "")
    names = [ALL, *(codes if breakdown_rows else [])]
    if rows.empty:
        return [_blank(REASON_NOT_RECEIVED, b) for b in names]
    cols = m.param("columns")
    out = [_count_figure(_sum(_select_rows(rows, key, q.spec, m.sheet, m.model_extra or {}), cols))]
    if breakdown_rows:
        for code in codes:
            part = rows.loc[rows[key] == code]
            out.append(_count_figure(_sum(part, cols) if not part.empty else None, code))
    return out


def _count_figure(total: int | None, breakdown: str = ALL) -> Figure:
    if total is None:
        return _blank(REASON_NOT_AVAILABLE, breakdown)
    return Figure(breakdown=breakdown, value=float(total))


def table_share(m: MeasureDef, q: QuarterData) -> list[Figure]:
    """Selected rows/columns over selected rows/columns of a table sheet, x 100."""
    rows = q.rows(m.sheet)
    if rows.empty:
        return [_blank(REASON_NOT_RECEIVED)]
    key = _key_column(m, q.spec)
    parts = []
    for side in ("numerator", "denominator"):
        sel = m.param(side)
        parts.append(_sum(_select_rows(rows, key, q.spec, m.sheet, sel), sel["columns"]))
    numerator, denominator = parts
    return [ratio_figure(numerator, denominator)]


def table_rate(m: MeasureDef, q: QuarterData) -> list[Figure]:
    """numerator column x per / denominator column for one row (G02); breakdowns by code."""
    rows = q.rows(m.sheet)
    key = _key_column(m, q.spec)
    col = next(c for c in q.spec.returns.sheets[m.sheet].columns if c.name == key)
    codes = q.spec.returns.code_values(col.codes or "") if "by_" + key in m.breakdowns else []
    if rows.empty:
        return [_blank(REASON_NOT_RECEIVED, b) for b in [ALL, *codes]]
    per = float(m.param("per", 1000))
    num_col, den_col = m.param("numerator"), m.param("denominator")

    def rate(code: str, breakdown: str) -> Figure:
        part = rows.loc[rows[key] == code]
        if part.empty:
            return _blank(REASON_NOT_AVAILABLE, breakdown)
        return ratio_figure(part[num_col].iloc[0], part[den_col].iloc[0], breakdown, scale=per)

    return [rate(m.param("row"), ALL), *(rate(c, c) for c in codes)]


def _pooled_pct(
    rows: pd.DataFrame, key: str, spec: Spec, sheet: str, sel: Mapping[str, object]
) -> tuple[float | None, str | None]:
    part = _select_rows(rows, key, spec, sheet, sel)
    num = _sum(part, [str(sel["numerator"])])
    den = _sum(part, [str(sel["denominator"])])
    if num is None or den is None or part.empty:
        return None, REASON_NOT_AVAILABLE
    if den == 0:
        return None, REASON_ZERO_DENOMINATOR
    return 100.0 * num / den, None


def gap(m: MeasureDef, q: QuarterData) -> list[Figure]:
    """Difference of two pooled percentages, in percentage points (G01)."""
    rows = q.rows(m.sheet)
    if rows.empty:
        return [_blank(REASON_NOT_RECEIVED)]
    key = _key_column(m, q.spec)
    a, ra = _pooled_pct(rows, key, q.spec, m.sheet, m.param("minuend"))
    b, rb = _pooled_pct(rows, key, q.spec, m.sheet, m.param("subtrahend"))
    if a is None or b is None:
        return [_blank(ra or rb or REASON_NOT_AVAILABLE)]
    return [Figure(value=a - b)]


# ------------------------------------------------------------------ record sheets
def record_count(m: MeasureDef, q: QuarterData) -> list[Figure]:
    """Rows of a record sheet; an accepted empty sheet is a true zero."""
    if not q.received(m.sheet):
        return [_blank(REASON_NOT_RECEIVED)]
    return [Figure(value=float(len(q.rows(m.sheet))))]


def _days(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (pd.to_datetime(later) - pd.to_datetime(earlier)).dt.days


def health_assessment(m: MeasureDef, q: QuarterData) -> list[Figure]:
    """H01/H02 (measures.md §3): exclusions always judged from date_accommodated.

    Excluded in order: episode ended within 28 days; then pending (no date_iha and the
    return was completed within 28 days of accommodation). The numerator clock starts at
    `clock_from` (date_accommodated for H01, date_notified for H02), so H02 excludes
    exactly the children H01 excludes.
    """
    names = [ALL, *m.breakdowns]
    if not q.received(m.sheet):
        return [_blank(REASON_NOT_RECEIVED, b) for b in names]
    rows = q.rows(m.sheet)
    if rows.empty:
        return [
            _blank(REASON_ZERO_DENOMINATOR, b, numerator=0, denominator=0, excluded=0, pending=0)
            for b in names
        ]
    ended = _days(rows["date_episode_ended"], rows["date_accommodated"]).le(HA_DAYS)
    ended = ended.fillna(False).astype(bool)
    pending = (
        ~ended
        & rows["date_iha"].isna()
        & _days(rows["date_completed"], rows["date_accommodated"])
        .le(HA_DAYS)
        .fillna(False)
        .astype(bool)
    )
    met = _days(rows["date_iha"], rows[m.param("clock_from")]).le(HA_DAYS)
    met = met.fillna(False).astype(bool)
    keep = ~ended & ~pending
    at_home = rows["placement_type"].eq(AT_HOME_CODE).fillna(False).astype(bool)
    groups = {
        ALL: pd.Series(True, index=rows.index),
        "at_home": at_home,
        "away_from_home": ~at_home,
    }
    out = []
    for b in names:
        g = groups[b]
        out.append(
            ratio_figure(
                int((met & keep & g).sum()),
                int((keep & g).sum()),
                b,
                excluded=int((ended & g).sum()),
                pending=int((pending & g).sum()),
            )
        )
    return out


def record_median_days(m: MeasureDef, q: QuarterData) -> list[Figure]:
    """Median of (end - start) in days over rows with an end date; n is the denominator."""
    if not q.received(m.sheet):
        return [_blank(REASON_NOT_RECEIVED)]
    rows = q.rows(m.sheet)
    if rows.empty:
        return [_blank(REASON_ZERO_DENOMINATOR, denominator=0)]
    days = _days(rows[m.param("end")], rows[m.param("start")]).dropna()
    if days.empty:
        return [_blank(REASON_ZERO_DENOMINATOR, denominator=0)]
    return [Figure(denominator=len(days), value=float(days.median()))]


# ------------------------------------------------------------------ progress
def progress_share(m: MeasureDef, q: QuarterData) -> list[Figure]:
    """Actions with the given statuses over actions with a status, across leads' returns."""
    rows = q.rows(m.sheet)
    if rows.empty:
        return [_blank(REASON_NOT_RECEIVED)]
    status = rows["status"].dropna()
    return [ratio_figure(int(status.isin(list(m.param("statuses"))).sum()), len(status))]


KINDS: dict[str, Callable[[MeasureDef, QuarterData], list[Figure]]] = {
    "item_ratio": item_ratio,
    "item_value": item_value,
    "table_sum": table_sum,
    "table_share": table_share,
    "record_count": record_count,
    "health_assessment": health_assessment,
    "record_median_days": record_median_days,
    "gap": gap,
    "table_rate": table_rate,
    "progress_share": progress_share,
}


def compute_measures(
    data: Mapping[str, pd.DataFrame],
    spec: Spec,
    quarters: Sequence[dt.date],
    processes: int | None = None,
) -> pd.DataFrame:
    """Every measure of the spec for every quarter, with breakdowns; `all` is the headline.

    Columns: measure_id, quarter_end (datetime64), breakdown, numerator, denominator
    (Int64), value (float, unrounded), unit, excluded, pending (Int64), reason (str/NA).
    Quarters are independent, so they are shared among up to `processes` forked children
    (default: the available cores) when there are enough to pay for the fork.
    """
    from transforms.forked import forked_map

    jobs = [_QuarterJob(spec, data, quarter) for quarter in quarters]
    parallel = processes if len(jobs) >= MIN_QUARTERS_TO_FORK else 1
    records = [r for quarter in forked_map(_quarter_records, jobs, parallel) for r in quarter]
    frame = pd.DataFrame.from_records(records, columns=BASE_COLUMNS)
    return typed_measures(frame)


#: Fewer quarters than this are computed here: a fork costs more than they take.
MIN_QUARTERS_TO_FORK = 8


@dataclass(frozen=True)
class _QuarterJob:
    spec: Spec
    data: Mapping[str, pd.DataFrame]
    quarter: dt.date


def _quarter_records(job: _QuarterJob) -> list[dict[str, Any]]:
    """One quarter's rows of the measures frame, as plain records."""
    qd = QuarterData(job.spec, job.data, job.quarter)
    records = []
    for m in job.spec.measures.measures:
        try:
            kind = KINDS[m.kind]
        except KeyError as exc:
            raise ValueError(f"measure {m.id}: unknown kind {m.kind!r}") from exc
        for f in kind(m, qd):
            records.append(
                {
                    "measure_id": m.id,
                    "quarter_end": pd.Timestamp(job.quarter),
                    "breakdown": f.breakdown,
                    "numerator": f.numerator,
                    "denominator": f.denominator,
                    "value": f.value,
                    "unit": m.unit,
                    "excluded": f.excluded,
                    "pending": f.pending,
                    "reason": f.reason,
                }
            )
    return records


def typed_measures(frame: pd.DataFrame) -> pd.DataFrame:
    """Give a measures frame its column types (also used after reading one back)."""
    frame = frame.copy()
    frame["quarter_end"] = pd.to_datetime(frame["quarter_end"]).astype("datetime64[ns]")
    for col in ("numerator", "denominator", "excluded", "pending"):
        frame[col] = (
            pd.array(frame[col].tolist(), dtype="Int64")
            if len(frame)
            else frame[col].astype("Int64")
        )
    frame["value"] = pd.to_numeric(frame["value"]).astype("float64")
    for col in ("measure_id", "breakdown", "unit", "reason"):
        frame[col] = frame[col].astype("str").where(frame[col].notna())
    return frame
