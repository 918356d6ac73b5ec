"""Every number in the packs' explanatory text comes from the specification.

A copy of spec/ with a different tolerance, small base and run-chart rules is loaded (the
spec folder can be overridden), both packs are rendered from it, and the new numbers, not
the old, are found in the Word and the Excel text.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest
import yaml

from tests.report_examples import example_inputs
from transforms.reports.excel import write_xlsx
from transforms.reports.word import write_docx
from transforms.resources import data_path
from transforms.spec import SPEC_DIR_ENV, load_spec, spec_dir

CHANGED = {
    "tolerance_pp": 7.5,
    "small_base": 12,
    "run_chart": {"min_points": 9, "shift_length": 7, "trend_length": 4},
}
NEW = [
    "7.5 percentage points",
    "under 12",
    "7 or more quarters on one side of the median",
    "4 or more quarters each rising or each falling",
    "9 or more quarters",
    "a count from 1 to 6",
]
OLD = [
    "5 percentage points",
    "under 10",
    "6 or more quarters on one side",
    "5 or more quarters each rising",
    "8 or more",
    "a count from 1 to 4",
]


@pytest.fixture(scope="module")
def changed_spec_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("spec")
    src = data_path("spec")
    for f in src.glob("*.yaml"):
        shutil.copy(f, d / f.name)
    doc = yaml.safe_load((d / "measures.yaml").read_text(encoding="utf-8"))
    doc["defaults"].update(CHANGED)
    doc["disclosure"]["max_count"] = 6
    (d / "measures.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return d


def _text(path: Path) -> str:
    """All the text of a docx or xlsx, tags stripped, whitespace folded."""
    with zipfile.ZipFile(path) as z:
        xml = " ".join(
            z.read(n).decode("utf-8")
            for n in z.namelist()
            if n.startswith(("word/document", "xl/sharedStrings", "xl/worksheets/sheet"))
        )
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", xml))


@pytest.mark.parametrize("public", [False, True], ids=["internal", "public"])
def test_changed_rules_reach_both_packs(changed_spec_dir, monkeypatch, tmp_path, public):
    """Tolerance, small base and run-chart rules in both packs; the suppression range in
    the public pack (the internal pack suppresses nothing and does not mention it)."""
    monkeypatch.setenv(SPEC_DIR_ENV, str(changed_spec_dir))
    assert spec_dir() == changed_spec_dir
    spec = load_spec()
    assert spec.measures.defaults.small_base == 12
    inputs = example_inputs(public=public, spec=spec)
    for path in (
        write_docx(inputs, tmp_path / "report.docx"),
        write_xlsx(inputs, tmp_path / "report.xlsx"),
    ):
        text = _text(path)
        for phrase in NEW if public else NEW[:-1]:
            assert phrase in text, (path.name, phrase)
        for phrase in OLD:
            assert not re.search(rf"(?<![\d.]){phrase}", text), (path.name, phrase)


def test_the_default_spec_gives_the_default_numbers(tmp_path):
    text = _text(write_xlsx(example_inputs(), tmp_path / "report.xlsx"))
    assert "5 percentage points" in text and "under 10" in text
    assert "6 or more quarters on one side of the median" in text


def test_the_template_holds_no_rule_number():
    """The template places the rules' text; it writes none of their numbers itself."""
    text = _text(data_path("report_templates", "data_summary.docx"))
    for phrase in ("percentage points", "under 10", "or more"):
        assert phrase not in text, phrase
