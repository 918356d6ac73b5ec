"""Open data beside the public pack: measures_public.csv and datapackage.json.

The package validates with the `frictionless` library; the CSV keeps the public pack's
privacy (no child reference, no unsuppressed small number) and, apart from suppression,
says exactly what measures.csv says.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from tests.report_examples import example_inputs
from transforms.measures.disclosure import public_measures
from transforms.measures.targets import measures_csv_frame
from transforms.reports.open_data import write_open_data

# The example's suppressed figures, in any rounding (as tests/test_report_context.py).
SUPPRESSED = re.compile(r"(?<![\d.])(?:7\.3(?:%|\d)|42\.(?:9%|8[56])|66\.(?:7%|66))")
COUNTS = ("numerator", "denominator", "excluded", "pending")


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("open")
    inputs = example_inputs()  # through the real disclosure control, as a run does
    public = public_measures(inputs.measures, inputs.spec)
    return write_open_data(public, inputs.spec, inputs.quarter_end, out)


@pytest.fixture(scope="module")
def public_csv(written) -> pd.DataFrame:
    return pd.read_csv(written["measures_public_csv"], dtype=str, keep_default_na=False)


def test_the_package_validates_with_frictionless(written):
    from frictionless import validate

    assert written["datapackage"].parent == written["measures_public_csv"].parent
    report = validate(str(written["datapackage"]))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    assert report.stats["tasks"] == 1


def test_the_package_describes_types_units_marker_and_licence(written):
    pkg = json.loads(written["datapackage"].read_text(encoding="utf-8"))
    assert pkg["licenses"][0]["title"] == "Open Government Licence v3.0"
    (res,) = pkg["resources"]
    assert res["path"] == "measures_public.csv"
    schema = res["schema"]
    fields = {f["name"]: f for f in schema["fields"]}
    assert schema["missingValues"] == [""]
    assert fields["value"]["type"] == "number" and fields["quarter_end"]["type"] == "date"
    assert fields["suppressed"]["type"] == "boolean"
    assert "percent" in fields["unit"]["description"]
    assert all(f.get("description") for f in schema["fields"])


def test_a_broken_csv_fails_validation(written, tmp_path):
    """The schema has teeth: a text in a number column is reported."""
    from frictionless import validate

    (tmp_path / "datapackage.json").write_text(written["datapackage"].read_text())
    text = written["measures_public_csv"].read_text().splitlines()
    cells = text[1].split(",")
    cells[5] = "lots"
    text[1] = ",".join(cells)
    (tmp_path / "measures_public.csv").write_text("\n".join(text) + "\n")
    report = validate(str(tmp_path / "datapackage.json"))
    assert not report.valid


def test_public_csv_leaks_nothing(written, public_csv):
    """The public-pack privacy check, applied to the CSV: no child reference, no suppressed
    figure in any rounding, no count from 1 to 4."""
    text = written["measures_public_csv"].read_text(encoding="utf-8")
    assert not SUPPRESSED.search(text)
    for leak in ("AB12CD34", "Highland"):
        assert leak not in text
    for col in COUNTS:
        numbers = pd.to_numeric(public_csv[col].replace("", None))
        assert not numbers.between(1, 4).any(), col
    counts = public_csv[public_csv["unit"] == "count"]
    assert not pd.to_numeric(counts["value"].replace("", None)).between(1, 4).any()


def test_public_csv_is_measures_csv_with_suppressed_cells_blank_and_marked(public_csv):
    internal = measures_csv_frame(example_inputs().measures).reset_index(drop=True)
    assert list(public_csv.columns) == [*internal.columns, "suppressed", "suppressed_fields"]
    assert len(public_csv) == len(internal)
    marked = 0
    for i in range(len(internal)):
        hidden = set(filter(None, public_csv.at[i, "suppressed_fields"].split(";")))
        assert (public_csv.at[i, "suppressed"] == "true") == bool(hidden)
        for col in internal.columns:
            if col in hidden:
                assert public_csv.at[i, col] == "" and internal.at[i, col] != "", (i, col)
                marked += 1
            else:
                assert public_csv.at[i, col] == internal.at[i, col], (i, col)
    # C04 3 of 41 and H01 at home 3 of 7: numerator and value hidden in each.
    assert marked >= 4


def test_a_quarterly_render_writes_the_open_data_beside_the_issued_public_pack(tmp_path):
    """transforms.quarterly.render_documents: both packs and the open data, in one folder;
    given the approval, the covers name it."""
    import datetime as dt

    from docx import Document
    from frictionless import validate

    from transforms.quarterly import QuarterData, document_paths, render_documents

    ex = example_inputs()
    qd = QuarterData(
        quarter_end=ex.quarter_end,
        measures=ex.measures,
        public_measures=public_measures(ex.measures, ex.spec),
        returns=ex.returns,
        expected=ex.expected,
        progress=ex.progress,
        milestones=ex.milestones,
        milestone_results=ex.milestone_results,
        warnings=ex.warnings,
        mismatches=ex.mismatches,
        revisions=ex.revisions,
        version=ex.version,
        generated_on=ex.generated_on,
    )
    paths = render_documents(qd, ex.spec, tmp_path, dt.date(2020, 11, 2), "Jo Bloggs")
    expected = document_paths(tmp_path, ex.quarter_end)
    for role in ("docx", "xlsx", "public_docx", "public_xlsx", "measures_public_csv"):
        assert paths[role] == expected[role] and paths[role].exists(), role
    assert validate(str(paths["datapackage"])).valid
    for role in ("docx", "public_docx"):
        rows = {r.cells[0].text: r.cells[1].text for r in Document(paths[role]).tables[0].rows}
        assert rows["Status"] == "Issued: approved on 2 November 2020 by Jo Bloggs", role


def test_a_renderers_warning_is_logged_by_the_process_that_writes_the_documents(
    tmp_path, caplog, monkeypatch
):
    """A progress update over Excel's cell limit is truncated with a warning. The workbooks
    may be rendered in forked children: each one's warning is handled in this process,
    where Prefect's log and the console are."""
    import dataclasses
    import datetime as dt
    import logging

    from transforms.quarterly import QuarterData, render_documents
    from transforms.reports.excel_cells import MAX_CELL

    ex = example_inputs()
    progress = ex.progress.copy()
    progress.loc[0, "progress_update"] = "x" * (MAX_CELL + 500)
    fields = {f.name for f in dataclasses.fields(QuarterData)}
    qd = QuarterData(
        **{k: v for k, v in vars(ex).items() if k in fields and k != "public_measures"},
        public_measures=public_measures(ex.measures, ex.spec),
    )
    qd.progress = progress
    monkeypatch.setenv("DATASUMMARY_PROCESSES", "2")
    with caplog.at_level(logging.WARNING):
        render_documents(qd, ex.spec, tmp_path, dt.date(2020, 11, 2), "Jo Bloggs")
    truncated = [r for r in caplog.records if "truncated" in r.getMessage()]
    assert {r.name for r in truncated} == {"transforms.reports.excel"}
    assert sorted(r.getMessage().rsplit("(", 1)[1] for r in truncated) == [
        "internal Excel workbook)",
        "public Excel workbook)",
    ]
