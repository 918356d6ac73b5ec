"""Disclosure control: primary and secondary suppression, and that nothing hidden can be
worked out from what is published."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transforms.measures.disclosure import public_measures, suppression_mask
from transforms.measures.figures import BASE_COLUMNS, typed_measures
from transforms.spec import default_spec

SPEC = default_spec()


def with_totals(interior: np.ndarray) -> np.ndarray:
    """Interior counts plus a total column (last) and a total row (last)."""
    rows = np.hstack([interior, interior.sum(axis=1, keepdims=True)])
    return np.vstack([rows, rows.sum(axis=0, keepdims=True)])


def equations(shape: tuple[int, int]) -> list[list[tuple[int, int, float]]]:
    """Every published relation of a table with totals: each row and column sums to its total.

    Written independently of the code under test: (row, col, coefficient) triples = 0.
    """
    n_rows, n_cols = shape
    eqs = []
    for r in range(n_rows):
        eqs.append([(r, c, 1.0) for c in range(n_cols - 1)] + [(r, n_cols - 1, -1.0)])
    for c in range(n_cols):
        eqs.append([(r, c, 1.0) for r in range(n_rows - 1)] + [(n_rows - 1, c, -1.0)])
    return eqs


def bounds_of_hidden(table: np.ndarray, hidden: np.ndarray) -> dict:
    """For each hidden cell, the min and max it can take given every published cell, the
    row/column equations and non-negativity (an attacker's best interval), by LP."""
    linprog = pytest.importorskip("scipy.optimize").linprog
    unknown = [tuple(ix) for ix in np.argwhere(hidden)]
    pos = {cell: i for i, cell in enumerate(unknown)}
    a_eq, b_eq = [], []
    for eq in equations(table.shape):
        coef = np.zeros(len(unknown))
        const = 0.0
        for r, c, k in eq:
            if (r, c) in pos:
                coef[pos[(r, c)]] += k
            else:
                const += k * table[r, c]
        if coef.any():
            a_eq.append(coef)
            b_eq.append(-const)
    out = {}
    for cell, i in pos.items():
        obj = np.zeros(len(unknown))
        obj[i] = 1.0
        lo = linprog(obj, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        hi = linprog(-obj, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        assert lo.status == 0 and hi.status in (0, 3)  # 3: unbounded above
        out[cell] = (lo.fun, -hi.fun if hi.status == 0 else np.inf)
    return out


def null_space_pins(table_shape: tuple[int, int], hidden: np.ndarray) -> list[tuple[int, int]]:
    """Hidden cells fixed by the linear equations alone: zero in every null-space vector."""
    unknown = [tuple(ix) for ix in np.argwhere(hidden)]
    pos = {cell: i for i, cell in enumerate(unknown)}
    rows = []
    for eq in equations(table_shape):
        coef = np.zeros(len(unknown))
        for r, c, k in eq:
            if (r, c) in pos:
                coef[pos[(r, c)]] += k
        rows.append(coef)
    a = np.vstack(rows)
    _, s, vt = np.linalg.svd(a)
    rank = int((s > 1e-9).sum())
    null = vt[rank:]
    return [cell for cell, i in pos.items() if null.shape[0] == 0 or np.allclose(null[:, i], 0)]


cell_value = st.one_of(st.just(0), st.integers(1, 4), st.integers(5, 60))


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 5).flatmap(
        lambda r: st.integers(1, 5).flatmap(
            lambda c: st.lists(st.lists(cell_value, min_size=c, max_size=c), min_size=r, max_size=r)
        )
    )
)
def test_no_hidden_cell_can_be_recovered(interior):
    table = with_totals(np.array(interior, dtype=float))
    n_rows, n_cols = table.shape
    hidden = suppression_mask(table, total_row=n_rows - 1, total_col=n_cols - 1)
    # primary cells hidden, zeros never
    assert (hidden[(table >= 1) & (table <= 4)]).all()
    assert not hidden[table == 0].any()
    # no line with exactly one hidden cell
    for r in range(n_rows):
        assert hidden[r, :].sum() != 1
    for c in range(n_cols):
        assert hidden[:, c].sum() != 1
    if not hidden.any():
        return
    # not determined by linear algebra, and the attacker's interval is not a single point
    assert null_space_pins(table.shape, hidden) == []
    for (r, c), (lo, hi) in bounds_of_hidden(table, hidden).items():
        assert hi - lo > 0.5, ((r, c), lo, hi, table.tolist(), hidden.tolist())
        assert lo - 1e-6 <= table[r, c] <= hi + 1e-6


def test_line_rule_alone_can_leave_a_recoverable_cell():
    """Two 4-cycles of hidden cells joined by one cell: every line has 0 or >= 2 hidden cells,
    yet the joining cell is fixed by the equations; the engine hides one more."""
    interior = np.array(
        [
            [3, 3, 0, 0, 50],
            [3, 3, 9, 0, 50],
            [0, 0, 3, 3, 50],
            [0, 0, 3, 3, 50],
        ],
        dtype=float,
    )
    table = with_totals(interior)
    n_rows, n_cols = table.shape
    only_primary_and_bridge = (table >= 1) & (table <= 4)
    only_primary_and_bridge[1, 2] = True
    assert null_space_pins(table.shape, only_primary_and_bridge)  # the trap is real
    hidden = suppression_mask(table, total_row=n_rows - 1, total_col=n_cols - 1)
    assert null_space_pins(table.shape, hidden) == []


def _frame(rows: list[dict]) -> pd.DataFrame:
    full = []
    for r in rows:
        base = dict.fromkeys(BASE_COLUMNS)
        base.update(quarter_end=dt.date(2020, 9, 30), unit="percent")
        base.update(r)
        full.append(base)
    return typed_measures(pd.DataFrame(full, columns=BASE_COLUMNS))


def test_public_measures_h01_and_counts():
    frame = _frame(
        [
            # H01: at_home denominator 3 is primary; the breakdowns add up to all, so the
            # smaller other part (away, 20) is hidden too; the total stays.
            {
                "measure_id": "H01",
                "breakdown": "all",
                "numerator": 12,
                "denominator": 23,
                "value": 100 * 12 / 23,
                "excluded": 2,
                "pending": 0,
            },
            {
                "measure_id": "H01",
                "breakdown": "at_home",
                "numerator": 2,
                "denominator": 3,
                "value": 200 / 3,
                "excluded": 0,
                "pending": 0,
            },
            {
                "measure_id": "H01",
                "breakdown": "away_from_home",
                "numerator": 10,
                "denominator": 20,
                "value": 50.0,
                "excluded": 2,
                "pending": 0,
            },
            {"measure_id": "S02", "breakdown": "all", "value": 3.0, "unit": "count"},
            {"measure_id": "C01", "breakdown": "all", "value": 0.0, "unit": "count"},
            {
                "measure_id": "C03",
                "breakdown": "all",
                "unit": "count",
                "reason": "return not received",
            },
            {
                "measure_id": "M01",
                "breakdown": "all",
                "numerator": 45,
                "denominator": 50,
                "value": 90.0,
            },
            {
                "measure_id": "M01",
                "breakdown": "care_experienced",
                "numerator": 4,
                "denominator": 8,
                "value": 50.0,
            },
        ]
    )
    out = public_measures(frame, SPEC)
    assert list(out.columns) == list(frame.columns) and len(out) == len(frame)

    def cell(mid, b, col):
        return out.loc[(out["measure_id"] == mid) & (out["breakdown"] == b), col].iloc[0]

    assert cell("H01", "at_home", "denominator") == "c"
    assert cell("H01", "at_home", "numerator") == "c"
    assert cell("H01", "at_home", "value") == "c"
    assert cell("H01", "away_from_home", "denominator") == "c"  # secondary
    assert cell("H01", "away_from_home", "numerator") == "c"  # 2 hidden -> 10 hidden
    assert cell("H01", "away_from_home", "value") == "c"
    assert cell("H01", "all", "denominator") == 23
    assert cell("H01", "all", "value") == pytest.approx(100 * 12 / 23)
    assert (
        cell("H01", "all", "excluded") == "c" and cell("H01", "away_from_home", "excluded") == "c"
    )
    assert cell("H01", "at_home", "excluded") == 0
    assert cell("S02", "all", "value") == "c"
    assert cell("C01", "all", "value") == 0  # zero stays 0
    assert cell("C03", "all", "value") is None  # blank stays blank
    # M01's care-experienced row is a subset, not a part of an additive table
    assert cell("M01", "care_experienced", "numerator") == "c"
    assert cell("M01", "care_experienced", "value") == "c"
    assert cell("M01", "all", "numerator") == 45 and cell("M01", "all", "value") == 90.0
    assert cell("M01", "care_experienced", "denominator") == 8


def test_public_l01_table_has_no_single_hidden_cell():
    counts = {"AT_HOME": 30, "KINSHIP": 2, "FOSTER_LA": 25, "SECURE": 0, "RES_SCHOOL": 6}
    rows = [
        {"measure_id": "L01", "breakdown": k, "value": float(v), "unit": "count"}
        for k, v in counts.items()
    ]
    rows.append({"measure_id": "L01", "breakdown": "all", "value": 63.0, "unit": "count"})
    out = public_measures(_frame(rows), SPEC)
    shown = dict(zip(out["breakdown"], out["value"], strict=True))
    assert shown["KINSHIP"] == "c" and shown["RES_SCHOOL"] == "c"  # 6: smallest non-zero
    assert shown["SECURE"] == 0 and shown["all"] == 63 and shown["AT_HOME"] == 30
