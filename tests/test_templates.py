"""Return templates: sheets, headers, pre-filled rows, validation and protection from the spec."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from transforms.intake.template_filling import fill_template
from transforms.intake.templates import (
    LISTS_SHEET,
    set_quarter,
    template_workbook,
    write_templates,
)
from transforms.spec import Code, default_spec

QE = dt.date(2020, 9, 30)
SPEC = default_spec()


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Workbook]:
    """Every template written to disk and read back (what a lead would open)."""
    out = tmp_path_factory.mktemp("templates")
    paths = write_templates(QE, out)
    return {p.name.split("_")[0]: load_workbook(p) for p in paths}


def _validation_for(ws, coordinate: str):
    return [dv for dv in ws.data_validations.dataValidation if coordinate in dv.sqref]


def test_one_file_per_submitter_named_by_code_and_quarter(tmp_path: Path) -> None:
    paths = write_templates(QE, tmp_path)
    assert sorted(p.name for p in paths) == sorted(
        f"{s.code}_2020-09-30.xlsx" for s in SPEC.returns.submitters
    )
    assert all(p.exists() and p.stat().st_size > 0 for p in paths)


def test_sheets_are_cover_guidance_and_the_submitters_sheets(written) -> None:
    for sub in SPEC.returns.submitters:
        assert written[sub.code].sheetnames == ["Cover", "Guidance", *sub.sheets]


def test_cover_labels_values_and_unlocked_lead_fields(written) -> None:
    for sub in SPEC.returns.submitters:
        ws = written[sub.code]["Cover"]
        rows = {
            ws.cell(row=r, column=1).value: ws.cell(row=r, column=2)
            for r in range(1, ws.max_row + 1)
        }
        labels = [f.label for f in SPEC.returns.cover.fields]
        assert all(label in rows for label in labels)
        assert rows["Submitter code"].value == sub.code
        assert rows["Quarter end date"].is_date
        assert rows["Quarter end date"].value.date() == QE
        assert str(rows["Template version"].value) == str(SPEC.returns.template_version)
        for label in ("Completed by", "Email", "Date completed"):
            assert rows[label].value is None
            assert rows[label].protection.locked is False
        assert rows["Submitter code"].protection.locked is True
        assert ws.protection.sheet


def test_guidance_gives_deadline_and_blank_rule(written) -> None:
    text = "\n".join(str(c.value) for c in written["NHSG"]["Guidance"]["A"] if c.value)
    assert "21 October 2020" in text  # quarter end + 21 days
    assert "blank value means 'not available'" in text
    assert "Health_Assessments" in text and "CAMHS" in text


def test_headers_are_the_spec_columns_with_frozen_header(written) -> None:
    for sub in SPEC.returns.submitters:
        for name in sub.sheets:
            ws = written[sub.code][name]
            header = [c.value for c in ws[1] if c.value is not None]
            assert header == [c.name for c in SPEC.returns.sheet_columns(name)]
            assert ws.freeze_panes == "A2"
            assert ws.protection.sheet


def test_prefilled_rows(written) -> None:
    cp = written["CSW"]["Child_Protection"]
    items = [i.item for i in SPEC.returns.sheets["Child_Protection"].items]
    assert [cp.cell(row=r, column=1).value for r in range(2, len(items) + 2)] == items
    assert cp["B2"].value == SPEC.returns.sheets["Child_Protection"].items[0].description
    assert cp["A2"].protection.locked and cp["B2"].protection.locked
    assert cp["C2"].protection.locked is False and cp["D2"].protection.locked is False

    census = written["CSW"]["LAC_Census"]
    codes = SPEC.returns.code_values("placement_type")
    assert [census.cell(row=r, column=1).value for r in range(2, census.max_row + 1)] == codes
    school = written["EDU"]["School_Outcomes"]
    assert [school.cell(row=r, column=1).value for r in range(2, school.max_row + 1)] == (
        SPEC.returns.code_values("pupil_group")
    )

    for lead in (s for s in SPEC.returns.submitters if s.kind == "lead"):
        ws = written[lead.code]["Progress"]
        actions = SPEC.plan.actions_for(lead.code)
        assert [ws.cell(row=r, column=1).value for r in range(2, ws.max_row + 1)] == [
            a.id for a in actions
        ]
        assert [ws.cell(row=r, column=2).value for r in range(2, ws.max_row + 1)] == [
            a.driver_short for a in actions
        ]

    starts = written["CSW"]["LAC_Starts"]
    assert starts.max_row == 1  # records: empty, room for rows
    assert starts.column_dimensions["A"].protection.locked is False


def test_every_code_column_has_its_full_list_as_drop_down(written) -> None:
    for sub in SPEC.returns.submitters:
        for name in sub.sheets:
            ws = written[sub.code][name]
            for j, col in enumerate(SPEC.returns.sheet_columns(name), start=1):
                letter = ws.cell(row=1, column=j).column_letter
                if col.type != "code":
                    continue
                prefilled = SPEC.returns.sheets[name].key == col.name
                dvs = _validation_for(ws, f"{letter}2")
                if prefilled:
                    continue
                assert len(dvs) == 1, (name, col.name)
                assert dvs[0].type == "list"
                listed = dvs[0].formula1.strip('"').split(",")
                assert listed == SPEC.returns.code_values(col.codes), (name, col.name)


def test_counts_ints_and_dates_are_validated(written) -> None:
    starts = written["CSW"]["LAC_Starts"]
    age = _validation_for(starts, "C2")[0]
    assert (age.type, age.operator, age.formula1, age.formula2) == ("whole", "between", "0", "17")
    start = _validation_for(starts, "B500")[0]
    assert start.type == "date" and start.formula1 == "DATE(2020,7,1)"
    assert start.formula2 == "DATE(2020,9,30)"
    value = _validation_for(written["NHSG"]["CAMHS"], "C2")[0]
    assert (value.type, value.operator, value.formula1) == ("whole", "greaterThanOrEqual", "0")
    census = written["CSW"]["LAC_Census"]
    assert _validation_for(census, "B13")[0].type == "whole"
    assert _validation_for(census, "C13")[0].type == "whole"
    assert _validation_for(written["BIU"]["Progress"], "E2")[0].type == "date"


def test_workbook_structure_is_protected(written) -> None:
    for wb in written.values():
        assert wb.security is not None and wb.security.lockStructure


def test_long_code_list_goes_to_hidden_lists_sheet() -> None:
    codes = [Code(code=f"PLACEMENT_TYPE_NUMBER_{i:02d}", label=str(i)) for i in range(20)]
    returns = SPEC.returns.model_copy(
        update={"codes": {**SPEC.returns.codes, "placement_type": codes}}
    )
    spec = SPEC.model_copy(update={"returns": returns})
    wb = template_workbook("CSW", QE, spec)
    assert wb.sheetnames[-1] == LISTS_SHEET and wb[LISTS_SHEET].sheet_state == "hidden"
    dv = _validation_for(wb["LAC_Starts"], "E2")[0]
    assert dv.formula1 == "'Lists'!$A$2:$A$21"
    assert [wb[LISTS_SHEET].cell(row=r, column=1).value for r in range(2, 22)] == [
        c.code for c in codes
    ]


def test_fill_and_refill_writes_text_as_text(tmp_path: Path) -> None:
    wb = template_workbook("BIU", QE)
    rows = [
        {"action_id": "5.2", "status": "On track", "progress_update": "=1+1 & <b>"},
        {
            "action_id": "5.4",
            "status": "Complete",
            "progress_update": None,
            "completion_date": dt.date(2020, 8, 1),
        },
    ]
    fill_template(
        wb,
        {"completed_by": "A Lead", "email": "a@b.org", "date_completed": dt.date(2020, 10, 9)},
        {"Progress": rows},
    )
    path = tmp_path / "biu.xlsx"
    wb.save(path)
    with zipfile.ZipFile(path) as z:
        assert not any(b"<f>" in z.read(n) for n in z.namelist() if n.startswith("xl/work"))
    ws = load_workbook(path)["Progress"]
    assert ws["D2"].value == "=1+1 & <b>" and ws["D2"].data_type == "s"
    assert ws["E3"].value.date() == dt.date(2020, 8, 1)
    assert ws["A2"].value == "5.2" and ws["B2"].value == SPEC.plan.action("5.2").driver_short


def test_refilled_record_sheet_for_another_quarter_clears_old_rows() -> None:
    wb = template_workbook("NHSG", QE)
    row = {
        "child_ref": "AB1234",
        "date_accommodated": dt.date(2020, 8, 1),
        "date_notified": dt.date(2020, 8, 2),
        "placement_type": "KINSHIP",
    }
    fill_template(wb, {}, {"Health_Assessments": [row, {**row, "child_ref": "AB1235"}]})
    nxt = dt.date(2020, 12, 31)
    set_quarter(wb, nxt)
    fill_template(wb, {}, {"Health_Assessments": [{**row, "child_ref": "AB9999"}]})
    ws = wb["Health_Assessments"]
    assert ws["A2"].value == "AB9999" and ws["A3"].value is None
    assert wb["Cover"]["B2"].value == nxt
    dv = _validation_for(ws, "B2")[0]
    assert dv.formula1 == "DATE(2020,10,1)" and dv.formula2 == "DATE(2020,12,31)"
