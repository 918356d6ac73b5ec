"""Reading a workbook per the return specification: which sheets, read by which reader.

The sheets come from `transforms.intake.sheet_readers`: calamine when the workbook holds nothing it
cannot report, otherwise openpyxl's own streaming parser, extended to see what pandas and
`data_only` hide (a formula with no saved result, an Excel error cell, hidden rows). Neither
trusts the `<dimension>` tag. The Cover is read by `transforms.intake.cover`, each data sheet
by `transforms.intake.sheet_frames`; values are converted by `transforms.intake.cells`, never
by pandas, and anything that does not convert becomes a finding naming its cell.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from transforms.catalogue import make_finding
from transforms.findings import Finding, ParsedReturn
from transforms.intake import cells
from transforms.intake.bounds import scan_workbook
from transforms.intake.cover import parse_cover
from transforms.intake.preflight import DEFAULT_LIMITS, Limits
from transforms.intake.sheet_frames import RawValues, SheetLayout, parse_sheet
from transforms.intake.sheet_readers import (
    CalamineFailed,
    RawSheet,
    SheetSource,
    calamine_sheets,
    openpyxl_sheets,
)
from transforms.spec import Spec, default_spec


@dataclass
class Parsed:
    """A parsed return plus what validation needs to locate its findings."""

    result: ParsedReturn
    layouts: dict[str, SheetLayout] = field(default_factory=dict)
    raw_values: dict[str, RawValues] = field(default_factory=dict)


# ---------------------------------------------------------------- the workbook
def parse_workbook(
    path: Path,
    *,
    spec: Spec | None = None,
    today: dt.date | None = None,
    original_name: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Parsed:
    """The Cover and the submitter's sheets of a pre-flighted workbook, typed, with findings.

    Never raises on a bad workbook: a parser failure becomes a P-UNREADABLE finding. Every
    part is first inflated and measured as a stream (`transforms.intake.bounds`), so neither
    reader is handed a sheet past the limits or a part that inflates past its declared size;
    a sheet whose dense grid would be large is read by openpyxl, which keeps only what is set.
    """
    spec = spec or default_spec()
    today = today or london_today()
    result = ParsedReturn(file_name=original_name or path.name)
    parsed = Parsed(result=result)
    scan = scan_workbook(path, limits)
    if scan.findings:
        result.findings.extend(scan.findings)
        return parsed
    try:
        dense_ok = scan.largest_area <= limits.max_dense_cells
        sources = calamine_sheets(path) if dense_ok else None
        if sources is not None:
            try:
                _parse_sheets(sources, parsed, spec, today, limits)
                return parsed
            except CalamineFailed:
                result = ParsedReturn(file_name=result.file_name)
                parsed = Parsed(result=result)
        with openpyxl_sheets(path) as sources:
            _parse_sheets(sources, parsed, spec, today, limits)
    except MemoryError:
        result.findings.append(
            make_finding("P-TOO-LARGE", detail="reading it needed more memory than a return can")
        )
    except Exception as exc:  # noqa: BLE001 - a hostile or damaged file must not crash intake
        result.findings.append(
            make_finding(
                "P-UNREADABLE", detail=f"the workbook's contents are damaged: {type(exc).__name__}"
            )
        )
    return parsed


def london_today() -> dt.date:
    """Today's date in Europe/London (the specification's time zone)."""
    from transforms.quarters import london_date

    return london_date(dt.datetime.now(dt.UTC))


def _parse_sheets(
    sheets: list[SheetSource], parsed: Parsed, spec: Spec, today: dt.date, limits: Limits
) -> None:
    result = parsed.result
    result.sheet_order = [ws.title for ws in sheets]
    rspec = spec.returns
    cover_ws = _find_sheet(sheets, rspec.cover.sheet, result.findings)
    if cover_ws is None:
        return
    cover_raw = _read_checked(cover_ws, limits, result.findings)
    if cover_raw is None:
        return
    result.cover = parse_cover(cover_raw, spec, today, result.findings)
    if result.cover.submitter is None:
        return
    for name in rspec.submitter(result.cover.submitter).sheets:
        ws = _find_sheet(sheets, name, result.findings)
        if ws is None:
            continue
        raw = _read_checked(ws, limits, result.findings)
        if raw is None:
            continue
        frame, layout, raw_values = parse_sheet(raw, name, spec, result.findings)
        result.sheets[name] = frame
        parsed.layouts[name] = layout
        parsed.raw_values[name] = raw_values


def _find_sheet(
    sheets: list[SheetSource], name: str, findings: list[Finding]
) -> SheetSource | None:
    """The worksheet whose name matches `name` ignoring case, spaces and `_`."""
    matches = [ws for ws in sheets if cells.sheet_key(ws.title) == cells.sheet_key(name)]
    if not matches:
        findings.append(
            make_finding("S-SHEET-MISSING", sheet=name, expected=f"a sheet named {name}")
        )
        return None
    if len(matches) > 1:
        findings.append(
            make_finding(
                "S-SHEET-DUPLICATE",
                sheet=name,
                detail=", ".join(ws.title for ws in matches),
                expected=f"one sheet named {name}",
            )
        )
        return None
    return matches[0]


def _read_checked(ws: SheetSource, limits: Limits, findings: list[Finding]) -> RawSheet | None:
    raw = ws.read(limits)
    if raw.too_big:
        findings.append(make_finding("S-TOO-MANY-ROWS", sheet=raw.title, detail=raw.too_big))
        return None
    if raw.hidden:
        findings.append(make_finding("S-SHEET-HIDDEN", sheet=raw.title, expected="a visible sheet"))
    if raw.hidden_rows:  # rarely: no set of every row for the usual sheet
        for row in sorted(raw.hidden_rows & {r for r, _ in raw.cells}):
            findings.append(
                make_finding("S-ROW-HIDDEN", sheet=raw.title, row=row, expected="a visible row")
            )
    return raw
