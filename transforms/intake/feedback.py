"""Feedback a lead reads: the status, then every problem in the order Excel shows the sheet.

Two forms of one content: plain text (console, e-mail, `datasummary check`) and an xlsx
written next to the inbox. Submitted text goes into the workbook as text only — a value such
as `=HYPERLINK(...)` or `#N/A` must not become a live formula or an error cell in a file we
send back — and the file is replaced atomically so a crash never leaves half a workbook.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from openpyxl.utils import column_index_from_string

from transforms.atomic import atomic_write
from transforms.findings import Finding, ParsedReturn
from transforms.safe_text import cell_text as safe_text
from transforms.safe_text import needs_quote

HEADERS = ["severity", "sheet", "cell or row", "value found", "expected", "rule code", "message"]
_CELL_RE = re.compile(r"^([A-Z]{1,3})(\d+)$")


def default_status_line(parsed: ParsedReturn) -> str:
    """'file.xlsx: rejected (2 errors, 1 warning)'."""

    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    return (
        f"{parsed.file_name}: {parsed.status} ({plural(parsed.errors, 'error')}, "
        f"{plural(parsed.warnings, 'warning')})"
    )


def sort_key(parsed: ParsedReturn, finding: Finding) -> tuple[int, int, int]:
    """Workbook-level first, then sheets in workbook order, then row, then column."""
    order = {title: i for i, title in enumerate(parsed.sheet_order)}
    sheet = -1 if finding.sheet is None else order.get(finding.sheet, len(order))
    row, col = finding.row or 0, 0
    m = _CELL_RE.match(finding.cell or "")
    if m:
        col = column_index_from_string(m.group(1))
        row = int(m.group(2))
    return sheet, row, col


def sorted_findings(parsed: ParsedReturn) -> list[Finding]:
    """The findings as a lead would walk the workbook (stable for ties)."""
    return sorted(parsed.findings, key=lambda f: sort_key(parsed, f))


def feedback_text(parsed: ParsedReturn, status_line: str | None = None) -> str:
    """The status on the first line, then one line per problem in sheet order."""
    lines = [status_line or default_status_line(parsed)]
    if not parsed.findings:
        lines.append("No problems found. Thank you.")
    for f in sorted_findings(parsed):
        parts = [f"{f.severity.upper()} {f.location()} [{f.rule}]: {f.message}"]
        if f.value is not None:
            parts.append(f"Found: {f.value}.")
        if f.expected:
            parts.append(f"Expected: {f.expected}.")
        lines.append(" ".join(parts))
    return "\n".join(lines) + "\n"


# Stored column widths (the `<col width>` openpyxl used to write), A to G.
COLUMN_WIDTHS = (9, 18, 10, 20, 32, 16, 60)
_PX_PER_CHAR = 7  # Calibri 11: xlsxwriter stores pixels / 7 as the column width
_FIXED_CREATED = dt.datetime(2000, 1, 1)  # same content, same bytes (zip times are fixed)
_SHEET_XML = "xl/worksheets/sheet1.xml"
_STRINGS_XML = "xl/sharedStrings.xml"
_SST_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="'
    'http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
)
_ESCAPE_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
_EDGE_SPACE = re.compile(r"^\s|\s$")
_ZipMeta = tuple[tuple[int, int, int, int, int, int], int, int, int]  # time, method, attrs, os


def write_feedback_workbook(
    parsed: ParsedReturn, path: Path, status_line: str | None = None
) -> Path:
    """The feedback as an xlsx at `path`: status line, then the table of problems."""
    path = Path(path)
    return atomic_write(path, lambda tmp: _write_xlsx(parsed, tmp, status_line), suffix=".xlsx")


@dataclass(frozen=True)
class _Template:
    """What every feedback workbook shares, rendered once per process by xlsxwriter.

    `zip_bytes` is a complete xlsx zip minus the worksheet and the shared strings (styles,
    theme, workbook, content types, properties: the same bytes for every return);
    `sheet_head`, `sheet_middle` and `sheet_tail` are xlsxwriter's worksheet XML around the
    dimension and the cells (views with the frozen pane, columns, margins, page setup);
    `styles` are the xf indices of bold, bold + quote prefix, body, body + quote prefix;
    `infos` how xlsxwriter zipped each part.
    """

    zip_bytes: bytes
    infos: dict[str, _ZipMeta]
    sheet_head: str
    sheet_middle: str
    sheet_tail: str
    styles: tuple[int, int, int, int]


@functools.cache
def _template() -> _Template:
    """Render a workbook with every format once with xlsxwriter and keep its fixed parts.

    Writing a whole workbook with xlsxwriter costs ~2.5 ms, nearly all of it re-creating and
    re-compressing these identical parts; each feedback file then costs only its own cells.
    """
    import xlsxwriter

    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
    wb.set_properties({"created": _FIXED_CREATED})
    formats = (
        wb.add_format({"bold": True}),
        wb.add_format({"bold": True, "quote_prefix": True}),
        wb.add_format({"text_wrap": True, "valign": "top"}),
        wb.add_format({"text_wrap": True, "valign": "top", "quote_prefix": True}),
    )
    ws = wb.add_worksheet("Feedback")
    for col, fmt in enumerate(formats):  # every format used, in this order
        ws.write_string(0, col, "x", fmt)
    for col, width in enumerate(COLUMN_WIDTHS):
        ws.set_column_pixels(col, col, width * _PX_PER_CHAR)
    ws.freeze_panes(3, 0)  # A4
    # Printed, the list fits the page width (landscape) and runs on over as many pages as needed.
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    wb.close()
    bold, bold_q, body, body_q = (int(f.xf_index) for f in formats)
    if sorted((bold, bold_q, body, body_q)) != [1, 2, 3, 4]:
        raise RuntimeError("xlsxwriter numbered the cell formats differently")
    fixed = io.BytesIO()
    infos: dict[str, _ZipMeta] = {}
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(fixed, "w") as dst:
        for info in src.infolist():
            infos[info.filename] = (
                info.date_time,
                info.compress_type,
                info.external_attr,
                info.create_system,
            )
            if info.filename not in (_SHEET_XML, _STRINGS_XML):
                dst.writestr(
                    _zip_info(info.filename, infos[info.filename]), src.read(info.filename)
                )
        sheet = src.read(_SHEET_XML).decode("utf-8")
    head, rest = _split_once(sheet, '<dimension ref="A1:D1"/>')
    middle, rest = _split_once(rest, "<sheetData>")
    _, tail = _split_once(rest, "</sheetData>")
    return _Template(fixed.getvalue(), infos, head, middle, tail, (bold, bold_q, body, body_q))


def _split_once(text: str, marker: str) -> tuple[str, str]:
    """`text` before and after the one `marker` (xlsxwriter changed its output if not one)."""
    if text.count(marker) != 1:
        raise RuntimeError(f"xlsxwriter's worksheet XML no longer has one {marker!r}")
    before, after = text.split(marker)
    return before, after


def _zip_info(name: str, meta: _ZipMeta) -> zipfile.ZipInfo:
    """A fresh ZipInfo as xlsxwriter made it (writestr fills in sizes, so never reused)."""
    date_time, compress_type, external_attr, create_system = meta
    info = zipfile.ZipInfo(name, date_time)
    info.compress_type, info.external_attr, info.create_system = (
        compress_type,
        external_attr,
        create_system,
    )
    return info


def _si(text: str) -> str:
    """One shared string as xlsxwriter writes it: Excel's _xHHHH_ escapes, then XML escapes.

    Unlike xlsxwriter's `write_string`, text that looks like rich-text XML (`<r>…</r>`) is
    escaped too: submitted text must never become markup in the file.
    """
    text = _ESCAPE_ESCAPE.sub(r"_x005F\1", text)
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
    text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    space = ' xml:space="preserve"' if _EDGE_SPACE.search(text) else ""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<si><t{space}>{text}</t></si>"


def _write_xlsx(parsed: ParsedReturn, path: Path, status_line: str | None) -> None:
    """Write the workbook to `path`: xlsxwriter's fixed parts plus this return's cells.

    Every value is a shared string (`t="s"`) — never a formula, number or error — and text
    Excel could take for a formula or an error gets the quote prefix, so it stays text when a
    lead edits the cell.
    """
    t = _template()
    bold, bold_q, body, body_q = t.styles
    strings: dict[str, int] = {}
    count = 0

    def put(ref: str, value: object, fmt: int, fmt_q: int) -> str:
        nonlocal count
        text = safe_text(value)
        index = strings.setdefault(text, len(strings))
        count += 1
        return f'<c r="{ref}" s="{fmt_q if needs_quote(text) else fmt}" t="s"><v>{index}</v></c>'

    rows = [
        f'<row r="1">{put("A1", status_line or default_status_line(parsed), bold, bold_q)}</row>',
        '<row r="3">'
        + "".join(put(f"{c}3", h, bold, bold_q) for c, h in zip("ABCDEFG", HEADERS, strict=True))
        + "</row>",
    ]
    last = 3
    for last, f in enumerate(sorted_findings(parsed), start=4):
        where = f.cell or (f"row {f.row}" if f.row else "")
        values = [
            f.severity,
            f.sheet or "",
            where,
            f.value or "",
            f.expected or "",
            f.rule,
            f.message,
        ]
        rows.append(
            f'<row r="{last}">'
            + "".join(
                put(f"{c}{last}", v, body, body_q) for c, v in zip("ABCDEFG", values, strict=True)
            )
            + "</row>"
        )
    sheet = (
        f'{t.sheet_head}<dimension ref="A1:G{last}"/>{t.sheet_middle}<sheetData>'
        f"{''.join(rows)}</sheetData>{t.sheet_tail}"
    )
    sst = (
        f'{_SST_HEAD} count="{count}" uniqueCount="{len(strings)}">'
        f"{''.join(_si(s) for s in strings)}</sst>"
    )
    buffer = io.BytesIO(t.zip_bytes)
    buffer.seek(0, io.SEEK_END)
    with zipfile.ZipFile(buffer, "a") as zf:
        zf.writestr(_zip_info(_SHEET_XML, t.infos[_SHEET_XML]), sheet.encode("utf-8"))
        zf.writestr(_zip_info(_STRINGS_XML, t.infos[_STRINGS_XML]), sst.encode("utf-8"))
    Path(path).write_bytes(buffer.getvalue())
