"""The calamine fast path gives exactly what openpyxl gives, and steps aside when it cannot.

The ground truth here is openpyxl's reading (the slow path the checks were built on), taken
independently of the fast path's code.
"""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.returns_builder import TODAY, valid_sheets, write_workbook
from transforms.intake.parse import parse_workbook
from transforms.intake.preflight import DEFAULT_LIMITS
from transforms.intake.sheet_readers import (
    ExcelError,
    NoCachedValue,
    calamine_sheets,
    openpyxl_sheets,
    worksheet_parts,
)


def _both(path: Path) -> tuple[list, list] | None:
    """(calamine sheets, openpyxl sheets) as (title, hidden, cells) triples; None: no fast path."""
    fast = calamine_sheets(path)
    if fast is None:
        return None
    fast_read = [(s.title, (r := s.read(DEFAULT_LIMITS)).hidden, r.cells) for s in fast]
    with openpyxl_sheets(path) as slow:
        slow_read = [(s.title, (r := s.read(DEFAULT_LIMITS)).hidden, r.cells) for s in slow]
    return fast_read, slow_read


def _typed(sheets: list) -> list:
    """Cells with their Python type, so 5 and 5.0 or a date and a datetime differ."""
    return [
        (
            t,
            h,
            {
                k: (
                    type(v).__name__
                    if not isinstance(v, int | float) or isinstance(v, bool)
                    else "number",
                    v,
                )
                for k, v in c.items()
            },
        )
        for t, h, c in sheets
    ]


@pytest.fixture(scope="module")
def sample_files(sample_store) -> list[Path]:
    return sorted(d.file for d in sample_store["sample"].deliveries)


@pytest.mark.slow
def test_sample_returns_read_the_same_either_way(sample_files) -> None:
    fast = 0
    for path in sample_files:
        both = _both(path)
        if both is None:
            continue
        fast += 1
        assert _typed(both[0]) == _typed(both[1]), path.name
        # And the whole parse (frames, findings, layouts) agrees with the openpyxl-only parse.
        assert _parsed(path, fast=True) == _parsed(path, fast=False), path.name
    # The fast path is the common path: the sample's returns have no formulas or errors.
    assert fast >= 0.9 * len(sample_files), (fast, len(sample_files))


def _parsed(path: Path, *, fast: bool) -> tuple:
    import transforms.intake.parse as parse_mod

    if fast:
        p = parse_workbook(path, today=TODAY)
    else:
        real = parse_mod.calamine_sheets
        parse_mod.calamine_sheets = lambda _path: None
        try:
            p = parse_workbook(path, today=TODAY)
        finally:
            parse_mod.calamine_sheets = real
    r = p.result
    return (
        r.cover,
        r.sheet_order,
        [f.__dict__ for f in r.findings],
        {k: v.to_dict("list") for k, v in r.sheets.items()},
        p.layouts,
        p.raw_values,
    )


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
_value = st.one_of(
    st.integers(-(10**9), 10**9),
    st.floats(-1e9, 1e9, allow_nan=False).map(lambda f: round(f, 4)),
    st.booleans(),
    _text,
    st.datetimes(dt.datetime(1950, 1, 1), dt.datetime(2090, 1, 1)).map(
        lambda d: d.replace(microsecond=0)
    ),
    st.dates(dt.date(1950, 1, 1), dt.date(2090, 1, 1)),
    st.times().map(lambda t: t.replace(microsecond=0)),
)
_cells = st.dictionaries(
    st.tuples(st.integers(1, 40), st.integers(1, 12)),
    _value.filter(lambda v: not (isinstance(v, str) and v.startswith("="))),
    max_size=40,
)  # openpyxl writes "=..." as a formula: the slow path


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cells=_cells, hidden_sheet=st.booleans())
def test_generated_cells_read_the_same_either_way(tmp_path, cells, hidden_sheet) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    for (r, c), v in cells.items():
        ws.cell(row=r, column=c, value=v)
    other = wb.create_sheet("Other sheet")
    other["C3"] = "x"
    if hidden_sheet:
        other.sheet_state = "hidden"
    path = tmp_path / "generated.xlsx"
    wb.save(path)
    both = _both(path)
    assert both is not None
    assert both[0] == both[1]


def test_numbers_and_days_come_back_as_openpyxl_reads_them(tmp_path) -> None:
    path = write_workbook(
        {"S": [[5, 5.5, dt.datetime(2020, 3, 31), "  x  ", True]]}, tmp_path / "t.xlsx"
    )
    fast, slow = _both(path)
    assert _typed(fast) == _typed(slow)
    row = fast[0][2]
    assert row[(1, 1)] == 5 and isinstance(row[(1, 1)], int)
    assert row[(1, 3)] == dt.datetime(2020, 3, 31)


def _with_sheet_xml(src: Path, dest: Path, change) -> Path:
    """A copy of `src` whose first worksheet's XML is changed by `change(bytes) -> bytes`."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = change(data)
            zout.writestr(info, data)
    return dest


@pytest.mark.parametrize(
    ("name", "change", "expect"),
    [
        ("formula without result", lambda x: x.replace(b"<v>7</v>", b"<f>1+6</f>"), NoCachedValue),
        (
            "error cell",
            lambda x: x.replace(b'<c r="B2" t="n"><v>7</v>', b'<c r="B2" t="e"><v>#REF!</v>'),
            ExcelError,
        ),
    ],
)
def test_formulas_and_errors_go_to_openpyxl(tmp_path, name, change, expect) -> None:
    base = write_workbook({"S": [["a", "b"], ["x", 7]]}, tmp_path / "base.xlsx")
    changed = _with_sheet_xml(base, tmp_path / "changed.xlsx", change)
    assert calamine_sheets(base) is not None
    assert calamine_sheets(changed) is None, name
    with openpyxl_sheets(changed) as sheets:
        assert isinstance(sheets[0].read(DEFAULT_LIMITS).value(2, 2), expect)


def test_hidden_rows_go_to_openpyxl(tmp_path) -> None:
    path = write_workbook({"S": [["a"], ["b"]]}, tmp_path / "h.xlsx", hidden_rows={"S": [2]})
    assert calamine_sheets(path) is None


def test_a_formula_with_its_result_saved_is_read_by_openpyxl_too(tmp_path) -> None:
    base = write_workbook({"S": [["a", "b"], ["x", 7]]}, tmp_path / "base.xlsx")
    changed = _with_sheet_xml(
        base, tmp_path / "f.xlsx", lambda x: x.replace(b"<v>7</v>", b"<f>1+6</f><v>7</v>")
    )
    assert calamine_sheets(changed) is None
    assert (
        parse_workbook(changed, today=TODAY).result.findings
        == parse_workbook(base, today=TODAY).result.findings
    )


def test_worksheet_parts_follow_the_relationships(tmp_path) -> None:
    path = write_workbook(valid_sheets("CSW"), tmp_path / "v.xlsx")
    with zipfile.ZipFile(path) as zf:
        parts = worksheet_parts(zf)
    assert parts and all(p.startswith("xl/worksheets/") for p in parts)
    # A workbook whose relationships point at a part that is not there: not for the fast path.
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(broken, "w") as zout:
        for info in zin.infolist():
            if info.filename != parts[0]:
                zout.writestr(info, zin.read(info))
    assert calamine_sheets(broken) is None
    assert calamine_sheets(shutil.copy(path, tmp_path / "copy.xlsx")) is not None


@pytest.mark.parametrize(
    ("xml", "needs"),
    [
        (b'<row r="1"><c r="A1" t="n"><v>1</v></c></row>', False),
        (b'<row r="1"><c r="A1" t="inlineStr"><is><t>of f/x "e"</t></is></c></row>', False),
        (b'<row r="1"><c r="A1"><f>1+1</f><v>2</v></c></row>', True),
        (b'<x:row r="1"><x:c r="A1"><x:f t="shared" si="0"/></x:c></x:row>', True),
        (b"<row r='1'><c r='A1' t = 'e'><v>#N/A</v></c></row>", True),
        (b'<row r="2" hidden="true"><c r="A2"><v>1</v></c></row>', True),
        (b'<row r="2" hidden="0"><c r="A2"><v>1</v></c></row>', False),
    ],
)
def test_what_sends_a_sheet_to_openpyxl(xml, needs) -> None:
    from transforms.intake.sheet_readers import _needs_cell_types

    assert _needs_cell_types(xml) is needs
