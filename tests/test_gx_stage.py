"""The GX stage: sheets checked in forked children find what one process finds."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from tests.returns_builder import TODAY, valid_sheets, write_workbook
from transforms.findings import STATUS_REJECTED
from transforms.forked import PROCESSES_ENV
from transforms.intake import validate
from transforms.intake.validate import check_workbooks


@pytest.fixture
def batch(tmp_path: Path) -> list[Path]:
    """Workbooks with GX failures on several sheets of two submitters."""
    csw = valid_sheets("CSW")
    csw["LAC_Starts"][2][0] = "CS0000"  # a duplicate child reference
    csw["LAC_Census"][3][0] = "FOSTER"  # not a code
    csw["LAC_Starts"][3][1] = dt.datetime(2020, 6, 30)  # outside the quarter
    csw["Child_Protection"][2][2] = -1  # below the range (a longer sheet than LAC_Starts)
    nhsg = valid_sheets("NHSG")
    first = next(iter(s for s in nhsg if s not in ("Cover", "Guidance")))
    nhsg[first][1][0] = None  # a required cell left blank
    return [
        write_workbook(valid_sheets("CSW"), tmp_path / "good.xlsx"),
        write_workbook(csw, tmp_path / "csw.xlsx"),
        write_workbook(nhsg, tmp_path / "nhsg.xlsx"),
    ]


def _findings(files: list[Path], processes: str, monkeypatch, forks: list[int]) -> list:
    monkeypatch.setenv(PROCESSES_ENV, processes)
    real_fork = os.fork

    def counted() -> int:
        forks.append(1)
        return real_fork()

    monkeypatch.setattr(os, "fork", counted)
    results = check_workbooks(files, today=TODAY)
    monkeypatch.setattr(os, "fork", real_fork)
    return [list(r.findings) for r in results]


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two cores to fork")
def test_forked_sheets_find_the_same_in_the_same_order(batch, monkeypatch) -> None:
    alone: list[int] = []
    one = _findings(batch, "1", monkeypatch, alone)
    forked: list[int] = []
    two = _findings(batch, "2", monkeypatch, forked)
    assert alone == [] and forked, "with two processes the sheets are checked in a child"
    assert two == one
    rules = {f.rule for findings in one for f in findings}
    assert {"V-DUPLICATE", "V-CODE", "V-INSIDE-QUARTER"} <= rules, one


def test_findings_follow_the_order_of_the_sheets(batch, monkeypatch) -> None:
    """As when the sheets were checked one after another: sheet by sheet, in their order."""
    monkeypatch.setenv(PROCESSES_ENV, "2")
    csw = check_workbooks(batch, today=TODAY)[1]
    order = list(csw.sheets)
    gx = [f for f in csw.findings if f.rule.startswith("V-")]  # GX and cell findings
    seen = [order.index(f.sheet) for f in gx if f.sheet in order]
    assert len(set(seen)) >= 2 and seen == sorted(seen), [(f.rule, f.sheet) for f in csw.findings]


@pytest.mark.parametrize("processes", ["1", "2"])
def test_a_sheet_whose_checks_fail_rejects_only_its_workbooks(
    batch, monkeypatch, processes
) -> None:
    """A fault in one sheet's suite is that sheet's, even in a child checking others."""
    run_suite = validate.run_suite

    def failing(sheet, frame, spec=None):
        if sheet == "LAC_Census":
            raise ValueError("a broken expectation")
        return run_suite(sheet, frame, spec)

    monkeypatch.setattr(validate, "run_suite", failing)
    monkeypatch.setenv(PROCESSES_ENV, processes)
    good, csw, nhsg = check_workbooks(batch, today=TODAY)
    for result in (good, csw):
        assert result.status == STATUS_REJECTED
        unreadable = [f.message for f in result.findings if f.rule == "P-UNREADABLE"]
        assert len(unreadable) == 1 and "sheet LAC_Census" in unreadable[0], unreadable
    assert "V-DUPLICATE" in {f.rule for f in csw.findings}  # other sheets still checked
    assert "LAC_Census" not in nhsg.sheets
    assert not [f for f in nhsg.findings if f.rule == "P-UNREADABLE"]
