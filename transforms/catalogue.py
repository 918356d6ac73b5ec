"""The validation rule catalogue (`spec/rules.yaml`) and the one way to make a `Finding`.

Every check — pre-flight, parsing, the GX suites, the pandas rules — builds its findings here,
so a rule's severity and wording live in one data file and a code missing from the catalogue
fails loudly in tests rather than reaching a lead as an unexplained message.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict

from transforms.findings import Finding
from transforms.spec import spec_dir


class Rule(BaseModel):
    """One rule of the catalogue."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    severity: Literal["error", "warning"]
    check: Literal["preflight", "parse", "gx", "pandas"]
    applies_to: str
    message: str


def load_catalogue(path: Path | None = None) -> dict[str, Rule]:
    """The rules by code, in file order; duplicate codes are refused."""
    p = path or spec_dir() / "rules.yaml"
    with p.open(encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    rules: dict[str, Rule] = {}
    for entry in raw["rules"]:
        rule = Rule(**entry)
        if rule.code in rules:
            raise ValueError(f"rule {rule.code} is declared twice in {p}")
        rules[rule.code] = rule
    return rules


@cache
def catalogue() -> dict[str, Rule]:
    """The default catalogue, read once per process."""
    return load_catalogue()


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def where(sheet: str | None, cell: str | None = None, row: int | None = None) -> str:
    """'Cell C5 on sheet LAC_Census', 'Row 12 on sheet LAC_Starts' or 'Sheet Cover'."""
    if sheet and cell:
        return f"Cell {cell} on sheet {sheet}"
    if sheet and row:
        return f"Row {row} on sheet {sheet}"
    if sheet:
        return f"Sheet {sheet}"
    return "The workbook"


def make_finding(
    code: str,
    *,
    sheet: str | None = None,
    cell: str | None = None,
    row: int | None = None,
    column: str | None = None,
    value: str | None = None,
    expected: str | None = None,
    item: str | None = None,
    detail: Any = None,
    severity: Literal["error", "warning"] | None = None,
) -> Finding:
    """A finding for catalogue rule `code`, its message filled in plain words.

    `value` is kept out of the message on purpose (it may be child-level); `severity`
    overrides the catalogue only for spec-declared rules whose severity lives in the spec.
    """
    rule = catalogue()[code]
    fields = _Blank(
        where=where(sheet, cell, row),
        sheet=sheet or "",
        column=column or "",
        item=item or "",
        detail="" if detail is None else str(detail),
    )
    return Finding(
        severity=severity or rule.severity,
        rule=code,
        message=rule.message.format_map(fields),
        sheet=sheet,
        cell=cell,
        row=row,
        column=column,
        value=value,
        expected=expected,
    )
