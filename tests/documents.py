"""The text a reader sees in a Word or Excel document, for tests that check what it says."""

from __future__ import annotations

import datetime as dt
from pathlib import Path


def document_text(path: Path) -> str:
    """Every paragraph and table cell of a .docx, or every cell value of a .xlsx."""
    if Path(path).suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True)
        cells = [
            str(v)
            for ws in book.worksheets
            for row in ws.iter_rows(values_only=True)
            for v in row
            if v is not None
        ]
        book.close()
        return "\n".join(cells)
    from docx import Document

    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    parts += [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join(parts)


def issued_line(approved_on: dt.date, approver: str) -> str:
    """The cover's status line of an issued report, e.g. 'approved on 2 October 2026 by X'
    (written out here, not taken from the code under test)."""
    return f"Issued: approved on {approved_on.day} {approved_on:%B %Y} by {approver}"


#: The cover's status line of a draft.
DRAFT_LINE = "DRAFT – not yet approved for issue"
