"""One rule for text from strangers in spreadsheets: feedback, reports, CSVs and e-mail."""

from __future__ import annotations

import pandas as pd
import pytest

from transforms.safe_text import cell_text, csv_cell, csv_safe, needs_quote


@pytest.mark.parametrize(
    ("text", "risky"),
    [
        ("=1+1", True),
        ("+44 1224", True),
        ("-5", True),
        ("@SUM(A1)", True),
        ("#N/A", True),
        ("#REF!", True),
        ("#DIV/0!", True),
        ("\tx", True),
        ("AB12", False),
        ("12", False),
        ("a=b", False),
        ("#5 on the list", False),
    ],
)
def test_needs_quote(text: str, risky: bool) -> None:
    assert needs_quote(text) is risky


@pytest.mark.parametrize(
    "value,expected",
    [
        ("=1+1", "'=1+1"),
        ("+44", "'+44"),
        ("-3", "'-3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("\nx", "'\nx"),
        ("#N/A", "'#N/A"),
        ("plain", "plain"),
        (None, ""),
        (float("nan"), ""),
        (pd.NA, ""),
        (pd.NaT, ""),
        (7, "7"),
        (False, "false"),
    ],
)
def test_csv_cell(value, expected):
    assert csv_cell(value) == expected


def test_csv_safe_changes_only_risky_text() -> None:
    frame = pd.DataFrame({"a": ["=cmd|' /C calc'!A0", "ok", None], "n": [-1, 2, 3]})
    out = frame.map(csv_safe)
    assert out["a"].tolist()[:2] == ["'=cmd|' /C calc'!A0", "ok"]
    assert out["n"].tolist() == [-1, 2, 3]


def test_cell_text_keeps_excels_limit_in_utf16_units() -> None:
    assert len(cell_text("😀" * 20_000)) == 16_383  # 32,766 units
    assert len(cell_text("a" + "😀" * 20_000)) == 16_384  # 32,767 units
    assert cell_text("x" * 40_000) == "x" * 32_767
