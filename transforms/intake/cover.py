"""Reading a return's Cover sheet: labels in column A (any row), values in column B.

The Cover says who sent the return and for which quarter, so each value is checked on its
own and an unusable one leaves that field None with a finding naming its cell.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from transforms.catalogue import make_finding
from transforms.findings import Cover, Finding
from transforms.intake import cells
from transforms.intake.cell_findings import cell_problem
from transforms.intake.sheet_readers import ExcelError, NoCachedValue, RawSheet
from transforms.quarters import is_quarter_end
from transforms.spec import ReturnSpec, Spec


def parse_cover(raw: RawSheet, spec: Spec, today: dt.date, findings: list[Finding]) -> Cover:
    """The Cover values (labels in column A, any row; values in column B)."""
    rspec = spec.returns
    values = _labelled_values(raw, rspec, findings)
    reader = _CoverReader(values, rspec, raw.title, today, findings)
    cover = Cover()
    for key, read in _FIELDS:  # in this order: the date completed needs the quarter end
        if key in values:
            read(reader, cover, values[key][1])
    return cover


def _labelled_values(
    raw: RawSheet, rspec: ReturnSpec, findings: list[Finding]
) -> dict[str, tuple[int, Any]]:
    """Each Cover field's (row, value) where its label is found exactly once."""
    sheet = raw.title
    rows_for = _label_rows(raw, rspec)
    values: dict[str, tuple[int, Any]] = {}
    for f in rspec.cover.fields:
        rows = sorted(rows_for.get(f.key, []))
        if not rows:
            findings.append(
                make_finding(
                    "C-LABEL-MISSING",
                    sheet=sheet,
                    column=f.label,
                    expected=f"the label {f.label} in column A",
                )
            )
            continue
        if len(rows) > 1:
            for r in rows[1:]:
                findings.append(
                    make_finding(
                        "C-LABEL-DUPLICATE",
                        sheet=sheet,
                        cell=f"A{r}",
                        row=r,
                        column=f.label,
                        value=f.label,
                        expected="each label once",
                    )
                )
            continue
        row = rows[0]
        value = raw.value(row, 2)
        problem = cell_problem(value, sheet, f"B{row}", row, f.label)
        if problem:
            findings.append(problem)
            continue
        values[f.key] = (row, value)
    return values


def _label_rows(raw: RawSheet, rspec: ReturnSpec) -> dict[str, list[int]]:
    """Cover field key -> the rows whose column A holds its label."""
    wanted = {cells.header_key(f.label): f for f in rspec.cover.fields}
    rows_for: dict[str, list[int]] = {}
    for (row, col), value in raw.cells.items():
        if col == 1 and not isinstance(value, (ExcelError, NoCachedValue)):
            f = wanted.get(cells.header_key(value))
            if f is not None:
                rows_for.setdefault(f.key, []).append(row)
    return rows_for


@dataclass
class _CoverReader:
    """What checking one Cover value needs: where the values are, and where findings go."""

    values: dict[str, tuple[int, Any]]
    rspec: ReturnSpec
    sheet: str
    today: dt.date
    findings: list[Finding]

    def add(self, code: str, key: str, expected: str, detail: str | None = None) -> None:
        """Record a finding at the cell of Cover field `key`."""
        row, value = self.values[key]
        self.findings.append(
            make_finding(
                code,
                sheet=self.sheet,
                cell=f"B{row}",
                row=row,
                column=next(f.label for f in self.rspec.cover.fields if f.key == key),
                value=cells.display(value),
                expected=expected,
                detail=detail,
            )
        )


def _submitter(reader: _CoverReader, cover: Cover, value: Any) -> None:
    codes = [s.code for s in reader.rspec.submitters]
    code = cells.to_code(value, cells.code_lookup(codes))
    if code in codes:
        cover.submitter = code
    else:
        reader.add("C-SUBMITTER", "submitter", "one of " + ", ".join(codes), ", ".join(codes))


def _quarter_end(reader: _CoverReader, cover: Cover, value: Any) -> None:
    qe = _try_date(value)
    if qe is not None and is_quarter_end(qe):
        cover.quarter_end = qe
    else:
        reader.add(
            "C-QUARTER-END",
            "quarter_end",
            "a quarter end (31 March, 30 June, 30 September or 31 December)",
        )


def _template_version(reader: _CoverReader, cover: Cover, value: Any) -> None:
    version = _try_int(value)
    wanted = reader.rspec.template_version
    if version == wanted:
        cover.template_version = str(version)
    else:
        reader.add("C-TEMPLATE-VERSION", "template_version", str(wanted), str(wanted))


def _completed_by(reader: _CoverReader, cover: Cover, value: Any) -> None:
    cover.completed_by = cells.to_text(value)
    if cover.completed_by is None:
        reader.add("C-COMPLETED-BY", "completed_by", "the name of the person who completed it")


def _email(reader: _CoverReader, cover: Cover, value: Any) -> None:
    email = cells.to_text(value)
    cover.email = email
    if email is None or not cells.is_email(email):
        reader.add("C-EMAIL", "email", "an e-mail address such as name@example.org")


def _date_completed(reader: _CoverReader, cover: Cover, value: Any) -> None:
    done = _try_date(value)
    expected = "a date on or after the quarter end and not in the future"
    if done is None:
        reader.add(
            "C-DATE-COMPLETED",
            "date_completed",
            expected,
            "is not a date (use an Excel date, or text such as 31/12/2020)",
        )
    elif cover.quarter_end is not None and done < cover.quarter_end:
        reader.add("C-DATE-COMPLETED", "date_completed", expected, "is before the quarter end")
    elif done > reader.today:
        reader.add("C-DATE-COMPLETED", "date_completed", expected, "is in the future")
    else:
        cover.date_completed = done


# The Cover fields in the order they are checked, each with the function that reads it.
_FIELDS: tuple[tuple[str, Callable[[_CoverReader, Cover, Any], None]], ...] = (
    ("submitter", _submitter),
    ("quarter_end", _quarter_end),
    ("template_version", _template_version),
    ("completed_by", _completed_by),
    ("email", _email),
    ("date_completed", _date_completed),
)


def _try_date(value: Any) -> dt.date | None:
    try:
        return cells.to_date(value)
    except cells.CellError:
        return None


def _try_int(value: Any) -> int | None:
    try:
        return cells.to_int(value)
    except cells.CellError:
        return None
