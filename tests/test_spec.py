"""The specification files load, cross-check, and say what the contract says."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from transforms.spec import default_spec, load_spec, spec_dir


def test_spec_loads_with_every_sheet_and_measure():
    spec = default_spec()
    assert set(spec.returns.sheets) == {
        "LAC_Census",
        "LAC_Starts",
        "Child_Protection",
        "Short_Breaks",
        "Care_Leavers",
        "Health_Assessments",
        "CAMHS",
        "School_Outcomes",
        "Transitions",
        "Progress",
    }
    ids = [m.id for m in spec.measures.measures]
    assert ids == sorted(set(ids), key=ids.index)  # unique
    assert {
        "H01",
        "H02",
        "H03",
        "S01",
        "S02",
        "L01",
        "L02",
        "L03",
        "L04",
        "L05",
        "G01",
        "G02",
        "M01",
        "C01",
        "C02",
        "C03",
        "C04",
        "C06",
        "A01",
        "A02",
        "A04",
        "T01",
        "T02",
        "Q01",
    } == set(ids)


def test_h01_targets_are_the_plans():
    h01 = default_spec().measures.measure("H01")
    assert [(str(t.date), t.value) for t in h01.targets] == [
        ("2020-09-30", 50.0),
        ("2021-09-30", 75.0),
        ("2022-09-30", 90.0),
    ]


def test_every_lead_action_has_one_update_source():
    spec = default_spec()
    leads = {s.code for s in spec.returns.submitters if s.kind == "lead"}
    for code in leads:
        assert spec.plan.actions_for(code), f"{code} leads no action"
    assert spec.plan.action("3.3").update_from == "CPIG"


def _copy_spec(tmp_path: Path) -> Path:
    d = tmp_path / "spec"
    shutil.copytree(spec_dir(), d)
    return d


def test_a_measure_naming_an_unknown_item_fails_at_load(tmp_path):
    d = _copy_spec(tmp_path)
    data = yaml.safe_load((d / "measures.yaml").read_text())
    data["measures"][3]["numerator"] = "no_such_item"
    (d / "measures.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(ValueError, match="no_such_item"):
        load_spec(d)


def test_a_changed_target_is_a_data_change_only(tmp_path):
    d = _copy_spec(tmp_path)
    data = yaml.safe_load((d / "measures.yaml").read_text())
    s01 = next(m for m in data["measures"] if m["id"] == "S01")
    s01["targets"][0]["value"] = 95.0
    (d / "measures.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    assert load_spec(d).measures.measure("S01").targets[0].value == 95.0
