"""Great Expectations suites generated from the specification (one per sheet).

The suites in `expectations/*.json` are derived data: `build_suites()` writes the same JSON
from `spec/returns.yaml` and `spec/rules.yaml`, and a test checks the committed files equal it.
Each expectation's `meta` carries the catalogue rule code, the specification column to blame,
and the plain-words `expected` text, so a GX failure becomes a `Finding` without guessing.

Validation frames carry, besides the sheet's columns: `source` (which workbook; uniqueness is
per source, so many workbooks of one sheet type validate in one run), `excel_row`,
`quarter_end` and `cover_date_completed` (ISO text / date from the Cover) and, for each
`inside_quarter` date column, `<column>__quarter_end` (the quarter end containing the date).

Run `python -m transforms.intake.suites` to regenerate the suites and docs/rules.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from transforms.catalogue import catalogue
from transforms.resources import data_path, data_root
from transforms.spec import Column, Spec, default_spec

EXPECTATIONS_DIR = data_path("expectations")
GX_SEVERITY = {"error": "critical", "warning": "warning"}


def quarter_column(column: str) -> str:
    """The derived column holding the quarter end of a date column's values."""
    return f"{column}__quarter_end"


def _exp(
    kind: str,
    rule: str,
    blame: str,
    expected: str,
    *,
    severity: str | None = None,
    detail: str | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """One expectation; `blame` is the specification column a failure is reported on."""
    sev = severity or catalogue()[rule].severity
    meta: dict[str, Any] = {"rule": rule, "column": blame, "expected": expected}
    if detail is not None:
        meta["detail"] = detail
    return {"type": kind, "kwargs": kwargs, "meta": meta, "severity": GX_SEVERITY[sev]}


def _column_expectations(sheet: str, column: Column, spec: Spec) -> list[dict[str, Any]]:
    """A column's expectations, in a fixed order (the suites' JSON is compared byte for byte)."""
    return (
        _blank_and_set_expectations(sheet, column, spec)
        + _number_and_pattern_expectations(column, spec)
        + _pair_expectations(sheet, column, spec)
    )


def _blank_and_set_expectations(sheet: str, column: Column, spec: Spec) -> list[dict[str, Any]]:
    """Not blank when required; one of the code list's values or the sheet's items."""
    rspec = spec.returns
    name = column.name
    out: list[dict[str, Any]] = []
    if column.required and column.required_value:
        out.append(
            _exp(
                "expect_column_values_to_not_be_null",
                "V-REQUIRED",
                name,
                "a value (this column may not be blank)",
                column=name,
            )
        )
    if column.type == "code":
        codes = rspec.code_values(column.codes or "")
        out.append(
            _exp(
                "expect_column_values_to_be_in_set",
                "V-CODE",
                name,
                "one of: " + ", ".join(codes),
                column=name,
                value_set=codes,
            )
        )
    if column.type == "item":
        items = [i.item for i in rspec.sheets[sheet].items]
        out.append(
            _exp(
                "expect_column_values_to_be_in_set",
                "V-ITEM",
                name,
                "one of this sheet's items: " + ", ".join(items),
                column=name,
                value_set=items,
            )
        )
    return out


def _number_and_pattern_expectations(column: Column, spec: Spec) -> list[dict[str, Any]]:
    """Counts and whole numbers within their range; child references matching the pattern."""
    name = column.name
    out: list[dict[str, Any]] = []
    if column.type == "count":
        out.append(
            _exp(
                "expect_column_values_to_be_between",
                "V-RANGE",
                name,
                "a whole number of 0 or more",
                column=name,
                min_value=0,
            )
        )
    if column.type == "int":
        lo, hi = column.min, column.max
        out.append(
            _exp(
                "expect_column_values_to_be_between",
                "V-RANGE",
                name,
                f"a whole number from {lo} to {hi}",
                column=name,
                min_value=lo,
                max_value=hi,
            )
        )
    if column.type == "child_ref":
        out.append(
            _exp(
                "expect_column_values_to_match_regex",
                "V-CHILD-REF",
                name,
                "4 to 12 letters and digits",
                column=name,
                regex=spec.returns.records.child_ref_pattern,
            )
        )
    return out


def _pair_expectations(sheet: str, column: Column, spec: Spec) -> list[dict[str, Any]]:
    """Unique keys on the sheet, no more than another column, a date inside the quarter."""
    name = column.name
    out: list[dict[str, Any]] = []
    sheet_spec = spec.returns.sheets[sheet]
    if column.type in ("child_ref", "item") or column.name == sheet_spec.key:
        out.append(
            _exp(
                "expect_compound_columns_to_be_unique",
                "V-DUPLICATE",
                name,
                "each value once on the sheet",
                column_list=["source", name],
                ignore_row_if="any_value_is_missing",
            )
        )
    if column.le:
        out.append(
            _exp(
                "expect_column_pair_values_a_to_be_greater_than_b",
                "V-LE",
                name,
                f"no more than {column.le}",
                detail=column.le,
                column_A=column.le,
                column_B=name,
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            )
        )
    if column.inside_quarter:
        out.append(
            _exp(
                "expect_column_pair_values_to_be_equal",
                "V-INSIDE-QUARTER",
                name,
                "a date inside the quarter on the Cover sheet",
                column_A=quarter_column(name),
                column_B="quarter_end",
                ignore_row_if="either_value_is_missing",
            )
        )
    return out


def _date_rule_expectations(sheet: str, spec: Spec) -> list[dict[str, Any]]:
    out = []
    for rule in spec.returns.sheets[sheet].date_rules:
        if rule.not_before:
            out.append(
                _exp(
                    "expect_column_pair_values_a_to_be_greater_than_b",
                    rule.code,
                    rule.column,
                    f"a date on or after {rule.not_before}",
                    severity=rule.severity,
                    column_A=rule.column,
                    column_B=rule.not_before,
                    or_equal=True,
                    ignore_row_if="either_value_is_missing",
                )
            )
        if rule.not_after_cover:
            out.append(
                _exp(
                    "expect_column_pair_values_a_to_be_greater_than_b",
                    rule.code,
                    rule.column,
                    f"a date no later than the Cover's {rule.not_after_cover}",
                    severity=rule.severity,
                    column_A=f"cover_{rule.not_after_cover}",
                    column_B=rule.column,
                    or_equal=True,
                    ignore_row_if="either_value_is_missing",
                )
            )
    return out


def suite_for(sheet: str, spec: Spec | None = None) -> dict[str, Any]:
    """The GX 1.x suite (as JSON-ready dict) for one specification sheet."""
    spec = spec or default_spec()
    expectations: list[dict[str, Any]] = []
    for column in spec.returns.sheet_columns(sheet):
        expectations.extend(_column_expectations(sheet, column, spec))
    expectations.extend(_date_rule_expectations(sheet, spec))
    return {
        "name": sheet,
        "expectations": expectations,
        "meta": {
            "generated_from": "spec/returns.yaml and spec/rules.yaml "
            "by transforms.intake.suites.build_suites()"
        },
    }


def build_suites(spec: Spec | None = None) -> dict[str, dict[str, Any]]:
    """Every sheet's suite, keyed by sheet name."""
    spec = spec or default_spec()
    return {sheet: suite_for(sheet, spec) for sheet in spec.returns.sheets}


def suite_json(suite: dict[str, Any]) -> str:
    """The committed text of a suite file (stable for the up-to-date test)."""
    return json.dumps(suite, indent=2, ensure_ascii=False) + "\n"


def write_suites(directory: Path = EXPECTATIONS_DIR, spec: Spec | None = None) -> list[Path]:
    """Write expectations/<sheet>.json for every sheet; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for sheet, suite in build_suites(spec).items():
        path = directory / f"{sheet}.json"
        path.write_text(suite_json(suite), encoding="utf-8")
        paths.append(path)
    return paths


def load_suite_files(directory: Path = EXPECTATIONS_DIR) -> dict[str, dict[str, Any]]:
    """The committed suite JSON, keyed by suite name."""
    out = {}
    for path in sorted(directory.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        out[data["name"]] = data
    return out


def main() -> None:
    """Regenerate expectations/*.json and docs/rules.md."""
    from transforms.intake.rules import write_rules_doc

    for path in write_suites():
        print(path.relative_to(data_root()))
    print(write_rules_doc().relative_to(data_root()))


if __name__ == "__main__":
    main()
