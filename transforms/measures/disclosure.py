"""Statistical disclosure control for the public pack (measures.md §5).

Counts from 1 to 4 are replaced by a symbol (primary suppression). In a table with totals a
single hidden cell in a row or column could be found by subtraction, so further cells are
hidden (secondary suppression): while a line has exactly one hidden cell, its smallest
non-zero published cell is hidden too. That line rule alone can still leave a cell fixed by
a combination of row and column equations, so a linear-algebra check follows: a hidden cell
is *recoverable* when the published equations determine it exactly (its unit vector lies in
the row space of the equations over the hidden cells); each such cell gets a further
companion hidden, and the two steps repeat. Zero stays 0. Pure functions, no I/O.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from transforms.measures.figures import ALL
from transforms.spec import Spec

COUNT_COLUMNS = ("numerator", "denominator", "excluded", "pending")


Cell = tuple[int, int]
Line = tuple[list[Cell], Cell]  # an additive line: its part cells, its total cell


def _lines(shape: tuple[int, int], total_row: int | None, total_col: int | None) -> list[Line]:
    """Each additive line: (its part cells, its total cell)."""
    n_rows, n_cols = shape
    out: list[Line] = []
    if total_col is not None:
        for r in range(n_rows):
            out.append(([(r, c) for c in range(n_cols) if c != total_col], (r, total_col)))
    if total_row is not None:
        for c in range(n_cols):
            out.append(([(r, c) for r in range(n_rows) if r != total_row], (total_row, c)))
    return out


def recoverable_cells(
    hidden: np.ndarray, lines: list[Line], exclude: np.ndarray | None = None
) -> list[Cell]:
    """Hidden cells whose value the published line equations determine exactly."""
    unknown = [tuple(ix) for ix in np.argwhere(hidden)]
    if not unknown:
        return []
    pos = {cell: i for i, cell in enumerate(unknown)}
    rows = []
    for parts, total in lines:
        coef = np.zeros(len(unknown))
        for cell in parts:
            if cell in pos:
                coef[pos[cell]] += 1.0
        if total in pos:
            coef[pos[total]] -= 1.0
        if coef.any():
            rows.append(coef)
    if not rows:
        return []
    a = np.vstack(rows)
    rank = np.linalg.matrix_rank(a)
    out = []
    for cell, i in pos.items():
        if exclude is not None and exclude[cell]:
            continue
        e = np.zeros(len(unknown))
        e[i] = 1.0
        if np.linalg.matrix_rank(np.vstack([a, e])) == rank:
            out.append(cell)
    return out


def _smallest_candidate(
    values: np.ndarray, hidden: np.ndarray, cells: list[tuple[int, int]]
) -> tuple[int, int] | None:
    best = None
    for cell in cells:
        v = values[cell]
        if hidden[cell] or np.isnan(v) or v == 0:
            continue
        if best is None or v < values[best]:
            best = cell
    return best


def suppression_mask(
    values: np.ndarray,
    total_row: int | None = None,
    total_col: int | None = None,
    min_count: int = 1,
    max_count: int = 4,
) -> np.ndarray:
    """Boolean mask of cells to hide in a 2-D array of counts (NaN = not available).

    `total_row` / `total_col` give the index of the total row / column, if any. NaN cells
    are unknown to a reader but are not ours to hide; they count as hidden in equations.
    """
    values = np.asarray(values, dtype=float)
    na = np.isnan(values)
    suppressed: np.ndarray = ~na & (values >= min_count) & (values <= max_count)
    lines = _lines(values.shape, total_row, total_col)
    for _ in range(values.size + 1):
        changed = True
        while changed:
            changed = False
            for parts, total in lines:
                cells = [*parts, total]
                hidden = [c for c in cells if suppressed[c] or na[c]]
                if len(hidden) == 1 and suppressed[hidden[0]]:
                    pick = _smallest_candidate(values, suppressed | na, cells)
                    if pick is not None:
                        suppressed[pick] = True
                        changed = True
        exposed = recoverable_cells(suppressed | na, lines, exclude=na)
        if not exposed:
            break
        added = False
        for cell in exposed:
            nearby = [
                c
                for parts, total in lines
                if cell in parts or cell == total
                for c in [*parts, total]
            ]
            pick = _smallest_candidate(values, suppressed | na, nearby)
            if pick is None:
                pick = _smallest_candidate(
                    values, suppressed | na, [tuple(ix) for ix in np.argwhere(~suppressed)]
                )
            if pick is not None:
                suppressed[pick] = True
                added = True
                break
        if not added:
            break
    return suppressed


def _published(v: Any) -> object:
    if v is None or pd.isna(v):
        return None
    f = float(v)
    return int(f) if f.is_integer() else f


def _column_mask(group: pd.DataFrame, col: str, min_count: int, max_count: int) -> np.ndarray:
    """Hide cells of one count column of a measure-quarter; breakdowns + `all` form a table
    with a total when the breakdowns add up to `all` (only then can subtraction reveal)."""
    vals = pd.to_numeric(group[col]).to_numpy(dtype=float, na_value=np.nan)
    is_all = (group["breakdown"] == ALL).to_numpy()
    parts = vals[~is_all]
    additive = (
        is_all.sum() == 1
        and len(parts) > 0
        and not np.isnan(parts).all()
        and not np.isnan(vals[is_all][0])
        and np.nansum(parts) == vals[is_all][0]
    )
    if additive:
        return suppression_mask(
            vals.reshape(-1, 1), int(np.flatnonzero(is_all)[0]), None, min_count, max_count
        ).ravel()
    mask: np.ndarray = ~np.isnan(vals) & (vals >= min_count) & (vals <= max_count)
    return mask


def _hidden(out: pd.DataFrame, min_count: int, max_count: int) -> dict[str, np.ndarray]:
    """Which cells of each count column and of `value` the public pack hides, by position.

    A measure-quarter with one row (no breakdowns) cannot be revealed by subtraction, so
    its cells are judged on their own, for all such rows at once; only measure-quarters
    with breakdowns go through `_column_mask` one by one.
    """
    n = len(out)
    counts = [c for c in COUNT_COLUMNS if c in out.columns]
    codes = out.groupby(["measure_id", "quarter_end"], sort=False).ngroup().to_numpy()
    single = np.bincount(codes)[codes] == 1 if n else np.zeros(0, dtype=bool)
    hide: dict[str, np.ndarray] = {}
    value_own = np.zeros(n, dtype=bool)
    for col in [*counts, "value"]:
        vals = pd.to_numeric(out[col]).to_numpy(dtype=float, na_value=np.nan)
        alone = single & ~np.isnan(vals) & (vals >= min_count) & (vals <= max_count)
        if col == "value":
            value_own = alone
        else:
            hide[col] = alone
    for group_code in np.unique(codes[~single]):
        positions = np.flatnonzero(codes == group_code)
        group = out.iloc[positions]
        for col in counts:
            hide[col][positions] = _column_mask(group, col, min_count, max_count)
        value_own[positions] = _column_mask(group, "value", min_count, max_count)
    is_count = (out["unit"] == "count").to_numpy()
    no = np.zeros(n, dtype=bool)
    hide["value"] = np.where(
        is_count, value_own, hide.get("numerator", no) | hide.get("denominator", no)
    )
    return hide


def public_measures(measures: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    """The measures frame as the public pack shows it (same rows and columns).

    numerator, denominator, excluded, pending and value become object columns holding the
    number (unchanged) or the symbol. A count-unit value is a count; any other value is
    hidden when its row's numerator or denominator is hidden (a percentage, rate or median
    of 1–4 children gives them away).
    """
    d = spec.measures.disclosure
    out = measures.copy()
    cols = [c for c in (*COUNT_COLUMNS, "value") if c in out.columns]
    published = {c: [_published(v) for v in out[c]] for c in cols}
    hide = _hidden(out, d.min_count, d.max_count)
    for col, mask in hide.items():
        for pos in np.flatnonzero(mask):
            published[col][pos] = d.symbol
    for c in cols:
        out[c] = pd.Series(published[c], index=out.index, dtype=object)
    return out
