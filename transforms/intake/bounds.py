"""What a workbook's zip parts really hold, checked while streaming, before any reader allocates.

calamine sizes its grid from the cells a sheet names (rows × columns, dense), and the zip
libraries under both readers trust a part's declared size: one value in `XFD1048576`, a lying
`<dimension>` or a part that inflates far past its declared size made a process ask for
hundreds of gigabytes and abort (returns.md §3, "reading is bounded before anything is
allocated"). So every part is inflated here first, a chunk at a time with our own zlib
decompressor, and must inflate to exactly its declared size and checksum; every worksheet's
`<dimension>`, `<row r>` and `<c r>` are read from the stream as it passes. Nothing is kept
but a few numbers per sheet, so memory stays at a chunk whatever the file.
"""

from __future__ import annotations

import html
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from transforms.catalogue import make_finding
from transforms.findings import Finding
from transforms.intake.preflight import DEFAULT_LIMITS, Limits, PartProblem, bounded_read

CHUNK = 1 << 16
MAX_TAG_BYTES = 1 << 16  # a start tag longer than this is not something Excel writes
_LOCAL_HEADER = struct.Struct("<4s5H3I2H")  # zip local file header, 30 bytes
_TAG = re.compile(rb"""<(?:[\w.-]+:)?(row|c|dimension)(?=[\s/>])((?:[^<>"']|"[^"]*"|'[^']*')*)>""")
_R_ATTR = re.compile(rb"""(?:^|\s)r\s*=\s*["']\$?([A-Za-z]*)\$?(\d*)["']""")
_REF_ATTR = re.compile(rb"""(?:^|\s)ref\s*=\s*["']([^"']*)["']""")
_CELL_REF = re.compile(r"\$?([A-Za-z]{0,3})\$?(\d{0,7})$")
_SHEET = re.compile(rb"<(?:[\w.-]+:)?sheet\b([^>]*)>")
_ATTR = re.compile(rb"""([\w:]+)\s*=\s*["']([^"']*)["']""")
_REL = re.compile(rb"<(?:[\w.-]+:)?Relationship\b([^>]*)>")


@dataclass
class SheetExtent:
    """The furthest row and column a worksheet holds or claims."""

    title: str
    max_row: int = 0
    max_col: int = 0
    beyond: str | None = None  # the first cell reference found past the limits
    beyond_claimed: bool = False  # ... in the `<dimension>` tag rather than a cell

    @property
    def area(self) -> int:
        """Cells in the rectangle from A1 to the furthest cell: what a dense reader allocates."""
        return self.max_row * self.max_col


@dataclass
class WorkbookScan:
    """The findings that stop a workbook being read, and each worksheet's extent."""

    findings: list[Finding] = field(default_factory=list)
    sheets: list[SheetExtent] = field(default_factory=list)

    @property
    def largest_area(self) -> int:
        """The largest dense grid any worksheet would need."""
        return max((s.area for s in self.sheets), default=0)


def column_letters(col: int) -> str:
    """1 -> 'A', 16384 -> 'XFD'."""
    letters = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters or "A"


def column_number(letters: bytes | str) -> int:
    """'A' -> 1, 'XFD' -> 16384 (case-insensitive); 0 for none."""
    n = 0
    for ch in letters.upper() if isinstance(letters, str) else letters.decode("ascii").upper():
        n = n * 26 + ord(ch) - 64
    return n


def scan_workbook(path: Path, limits: Limits = DEFAULT_LIMITS) -> WorkbookScan:
    """Every part inflated and checked, every worksheet's extent measured; never raises."""
    scan = WorkbookScan()
    try:
        with zipfile.ZipFile(path) as zf, open(path, "rb") as raw:
            titles = sheet_titles(zf, limits)
            for info in zf.infolist():
                if info.is_dir():
                    continue
                title = titles.get(info.filename)
                if title is None and _looks_like_worksheet(info.filename):
                    title = info.filename
                extent = SheetExtent(title) if title is not None else None
                try:
                    if extent is None:
                        for _ in inflated_chunks(raw, info, limits):
                            pass
                    else:
                        _measure(inflated_chunks(raw, info, limits), extent, limits)
                except PartProblem as exc:
                    scan.findings.append(
                        make_finding("P-UNREADABLE", detail=f"its part {info.filename} {exc}")
                    )
                    return scan
                if extent is not None:
                    scan.sheets.append(extent)
                    problem = _extent_problem(extent, limits)
                    if problem is not None:
                        scan.findings.append(problem)
                        return scan
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        scan.findings.append(
            make_finding(
                "P-UNREADABLE", detail=f"the zip container is damaged: {type(exc).__name__}"
            )
        )
    return scan


def _looks_like_worksheet(name: str) -> bool:
    lower = name.lower()
    return lower.startswith("xl/worksheets/") and lower.endswith(".xml") and "/_rels/" not in lower


def _seek_to_data(raw: BinaryIO, info: zipfile.ZipInfo, limits: Limits) -> None:
    """Check a part's headers against the directory and the limits; seek to its data."""
    if info.flag_bits & 0x1:
        raise PartProblem("is encrypted")
    if info.file_size > limits.max_uncompressed_bytes:
        raise PartProblem(
            f"declares {info.file_size:,} bytes; the limit is {limits.max_uncompressed_bytes:,}"
        )
    raw.seek(info.header_offset)
    header = raw.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise PartProblem("has no valid local header")
    fields = _LOCAL_HEADER.unpack(header)
    name_len, extra_len = fields[-2], fields[-1]
    local_sizes = (fields[7], fields[8])  # compressed, uncompressed
    if (
        not info.flag_bits & 0x8
        and 0xFFFFFFFF not in local_sizes
        and local_sizes != (info.compress_size, info.file_size)
    ):
        raise PartProblem("declares different sizes in its two headers (forged)")
    raw.seek(info.header_offset + _LOCAL_HEADER.size + name_len + extra_len)


def _decompressor(info: zipfile.ZipInfo) -> zlib._Decompress | None:
    """A raw-deflate decompressor, None for a stored part; PartProblem for anything else."""
    if info.compress_type == zipfile.ZIP_STORED:
        return None
    if info.compress_type == zipfile.ZIP_DEFLATED:
        return zlib.decompressobj(-15)
    raise PartProblem("uses a compression Excel does not write")


def inflated_chunks(raw: BinaryIO, info: zipfile.ZipInfo, limits: Limits) -> Iterator[bytes]:
    """The part's content, a chunk at a time, inflated by us and held to its declared size.

    Python's `zipfile.read` inflates a whole part in one call and only then cuts it to size,
    and the Rust zip reader under calamine does not stop either; here output past the
    declared size stops the read at once. The checksum is checked at the end.
    """
    _seek_to_data(raw, info, limits)  # in the generator: checked when the reading starts
    decompress = _decompressor(info)
    left_in, produced, crc = info.compress_size, 0, 0
    pending = b""
    while True:
        if not pending and left_in > 0:
            pending = raw.read(min(CHUNK, left_in))
            if not pending:
                raise PartProblem("is cut short")
            left_in -= len(pending)
        if decompress is None:
            out, pending = pending, b""
        else:
            try:
                out = decompress.decompress(pending, CHUNK)
            except zlib.error as exc:
                raise PartProblem("is damaged (it does not inflate)") from exc
            pending = decompress.unconsumed_tail
        produced += len(out)
        if produced > info.file_size:
            raise PartProblem(
                f"inflates past its declared size of {info.file_size:,} bytes (forged)"
            )
        crc = zlib.crc32(out, crc)
        if out:
            yield out
        if decompress is not None and decompress.eof:
            break
        if not out and not pending and left_in == 0:
            break
    if decompress is not None and not decompress.eof:
        raise PartProblem("is cut short")
    if produced != info.file_size:
        raise PartProblem(f"inflates to {produced:,} bytes, not the {info.file_size:,} declared")
    if crc != info.CRC:
        raise PartProblem("does not match its checksum (damaged)")


def _measure(chunks: Iterator[bytes], extent: SheetExtent, limits: Limits) -> None:
    """The furthest row and column of a worksheet's stream, from `<dimension>`, rows and cells.

    Rows and cells may omit `r` (they then follow the previous one). Stops early once the
    sheet is past the limits: the finding needs only the first cell beyond them. A chunk
    written the way spreadsheet tools write (every row and cell with its `r`, no prefixes,
    nothing past the limits) is measured in one pass of a few regular expressions; any other
    chunk, tag by tag (`_measure_tags`), which gives the same answer for every chunk.
    """
    row = col = 0
    tail = b""
    for chunk in chunks:
        buf = tail + chunk
        cut = buf.rfind(b"<")
        if cut < 0 or buf.find(b">", cut) >= 0:
            cut = len(buf)
        fast = _plain_extent(buf[:cut], limits)
        if fast is not None:
            max_row, max_col, row, col = fast if fast[2] else (*fast[:2], row, col)
            _extend(extent, max_row, max_col)
            tail = buf[cut:]
        else:
            row, col, tail, beyond = _measure_tags(buf, extent, limits, row, col)
            if beyond:
                return
        if len(tail) > MAX_TAG_BYTES:
            raise PartProblem("holds a tag far longer than Excel writes")


_PLAIN_CELL = re.compile(rb'<c r="([A-Z]{1,3})([1-9]\d{0,6})"[\s/>]')
_PLAIN_ROW = re.compile(rb'<row r="([1-9]\d{0,6})"[\s/>]')
_PLAIN_DIMENSION = re.compile(
    rb'<dimension ref="(?:[A-Z]{1,3}[1-9]\d{0,6}:)?([A-Z]{1,3})([1-9]\d{0,6})"[\s/>]'
)
_ANY_TAG = re.compile(rb"<(?:[\w.-]+:)?(?:c|row|dimension)(?=[\s/>])")


def _plain_extent(body: bytes, limits: Limits) -> tuple[int, int, int, int] | None:
    """(furthest row, furthest column, row and column of the last tag) of a chunk whose
    rows and cells all carry a plain `r` and lie within the limits; None for any other
    chunk (the last two are 0 when the chunk has no row or cell)."""
    cells = _PLAIN_CELL.findall(body)
    rows = _PLAIN_ROW.findall(body)
    claimed = _PLAIN_DIMENSION.findall(body)
    if len(cells) + len(rows) + len(claimed) != len(_ANY_TAG.findall(body)):
        return None  # a prefixed, unlettered or `r`-less tag, or an unusual <dimension>
    if not cells and not rows and not claimed:
        return 0, 0, 0, 0
    max_row = max((int(r) for _, r in cells + claimed), default=0)
    widest = max((c for c, _ in cells + claimed), key=lambda c: (len(c), c), default=b"")
    max_col = column_number(widest)
    if max_row > limits.max_rows or max_col > limits.max_columns:
        return None  # the finding names the first such cell: found tag by tag
    last_cell = body.rfind(b"<c r=")
    last_row = body.rfind(b"<row r=")
    if last_cell < 0 and last_row < 0:
        return max_row, max_col, 0, 0  # only a <dimension>: no row or cell to follow
    if last_cell > last_row:
        letters, number = cells[-1]
        return max_row, max_col, int(number), column_number(letters)
    return max_row, max_col, int(rows[-1]), 0


def _measure_tags(
    buf: bytes, extent: SheetExtent, limits: Limits, row: int, col: int
) -> tuple[int, int, bytes, bool]:
    """One chunk measured tag by tag: (row, column, the cut tag to carry, past limits?)."""
    end = 0
    for m in _TAG.finditer(buf):
        end = m.end()
        kind, attrs = m.group(1), m.group(2)
        if kind == b"c":
            r = _R_ATTR.search(attrs)
            if r and r.group(1):
                col = column_number(r.group(1))
                row = int(r.group(2)) if r.group(2) else row
            else:
                col += 1
            _extend(extent, row, col)
            where = (row, col)
        elif kind == b"row":  # an empty row element allocates nothing: only cells count
            r = _R_ATTR.search(attrs)
            row = int(r.group(2)) if r and r.group(2) else row + 1
            col = 0
            continue
        else:
            ref = _REF_ATTR.search(attrs)
            if not ref:
                continue
            last = ref.group(1).decode("ascii", "replace").split(":")[-1]
            m2 = _CELL_REF.match(last)
            if not m2:
                continue
            where = (int(m2.group(2) or 0), column_number(m2.group(1)) if m2.group(1) else 0)
            _extend(extent, *where)
        if where[0] > limits.max_rows or where[1] > limits.max_columns:
            extent.beyond = f"{column_letters(max(where[1], 1))}{max(where[0], 1)}"
            extent.beyond_claimed = kind == b"dimension"
            return row, col, b"", True
    start = buf.rfind(b"<")  # a tag cut by the chunk's end is kept for the next chunk
    tail = buf[start:] if start >= end and buf.find(b">", start) < 0 else b""
    return row, col, tail, False


def _extend(extent: SheetExtent, row: int, col: int) -> None:
    if row > extent.max_row:
        extent.max_row = row
    if col > extent.max_col:
        extent.max_col = col


def _extent_problem(extent: SheetExtent, limits: Limits) -> Finding | None:
    """A finding naming the sheet and its furthest cell when it is past the limits."""
    if extent.beyond is None:
        return None
    cell = extent.beyond
    claims = "its saved used range reaches" if extent.beyond_claimed else "it has a cell at"
    return make_finding(
        "S-TOO-MANY-ROWS",
        sheet=extent.title,
        cell=cell,
        detail=(
            f"{claims} {cell}; a return sheet may reach at most row {limits.max_rows:,} "
            f"and column {column_letters(limits.max_columns)}"
        ),
    )


def sheet_titles(zf: zipfile.ZipFile, limits: Limits) -> dict[str, str]:
    """Worksheet part name -> the sheet's title, from the workbook and its relationships."""
    try:
        workbook = bounded_read(zf, "xl/workbook.xml", limits.max_content_types_bytes)
        rels = bounded_read(zf, "xl/_rels/workbook.xml.rels", limits.max_content_types_bytes)
    except (KeyError, PartProblem, zipfile.BadZipFile, zlib.error, OSError):
        return {}
    targets = {}
    for m in _REL.finditer(rels):
        attrs = {k.lower(): v for k, v in _ATTR.findall(m.group(1))}
        target = attrs.get(b"target", b"").decode("utf-8", "replace")
        if target:
            targets[attrs.get(b"id", b"")] = (
                target.lstrip("/") if target.startswith("/") else _join("xl", target)
            )
    titles = {}
    for m in _SHEET.finditer(workbook):
        attrs = dict(_ATTR.findall(m.group(1)))
        rid = next((v for k, v in attrs.items() if k.lower().endswith(b":id")), None)
        name = attrs.get(b"name")
        if rid in targets and name is not None:
            titles[targets[rid]] = html.unescape(name.decode("utf-8", "replace"))
    return titles


def _join(folder: str, target: str) -> str:
    import posixpath

    return posixpath.normpath(posixpath.join(folder, target))
