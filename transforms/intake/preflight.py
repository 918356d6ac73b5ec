"""Pre-flight: decide from the bytes alone whether a file may be opened as a return.

Runs before any parser touches the file (returns.md §3): a stranger's file can be a CSV or
web page renamed `.xlsx`, an encrypted OLE2 container, a macro-enabled workbook, or a zip bomb
that every reader would happily inflate. Everything here reads a few bytes, the zip's central
directory and (bounded) `[Content_Types].xml`, so it costs almost nothing per file.

Bounds on parsing itself: the zip limits below cap what a part may declare; before any
reader runs, `transforms.intake.bounds` inflates every part in chunks (a part that inflates
past its declared size is refused at once) and checks every sheet's furthest cell, and
`bounded_read` here reads small parts without `ZipFile.read`, which inflates a whole part
before cutting it to size. Intake parses in a child process with a time and memory limit
(`transforms.intake.validate.Sandbox`), so even a native crash costs one file.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from transforms.catalogue import make_finding
from transforms.findings import Finding

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
MACRO_CONTENT_TYPES = (b"macroenabled", b"vbaproject", b"application/vnd.ms-office.vba")
OTHER_EXTENSIONS = {
    ".xlsm": "a macro-enabled workbook (.xlsm)",
    ".xls": "an old-style Excel 97-2003 workbook (.xls)",
    ".xlsb": "an Excel binary workbook (.xlsb)",
    ".csv": "a CSV file (.csv)",
    ".ods": "an OpenDocument spreadsheet (.ods)",
}


@dataclass(frozen=True)
class Limits:
    """What a return can plausibly be; anything bigger is refused before parsing.

    A real return is tens of kilobytes. The defaults leave ample room while keeping the worst
    file that passes to a few seconds and a few hundred megabytes of parsing.
    """

    max_file_bytes: int = 20_000_000
    max_entries: int = 500
    max_uncompressed_bytes: int = 60_000_000
    max_ratio: float = 200.0  # per entry, checked for entries over ratio_floor
    ratio_floor_bytes: int = 2_000_000
    max_content_types_bytes: int = 1_000_000
    max_rows: int = 100_000  # rows holding data, per sheet read
    max_columns: int = 256  # columns holding data, per sheet read
    max_cells: int = 1_000_000  # non-blank cells, per sheet read
    # calamine allocates every cell from A1 to the furthest one (about 40 bytes each, twice);
    # a sheet spread wider is read by openpyxl, which keeps only the non-blank cells.
    max_dense_cells: int = 2_000_000


DEFAULT_LIMITS = Limits()
BOUNDED_CHUNK = 1 << 16


class PartProblem(Exception):
    """A zip part that does not inflate to what its directory entry declares."""


def bounded_read(zf: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """A part's bytes, read a chunk at a time and refused past `limit` (KeyError if absent).

    `ZipFile.read` inflates the whole part in one call before cutting it to size, so a part
    with a forged size costs its real size in memory; this costs at most `limit`.
    """
    info = zf.getinfo(name)
    if info.file_size > limit:
        raise PartProblem(f"declares {info.file_size:,} bytes; the limit is {limit:,}")
    out = bytearray()
    with zf.open(info) as fh:
        while chunk := fh.read(BOUNDED_CHUNK):
            out += chunk
            if len(out) > limit:
                raise PartProblem(f"is larger than {limit:,} bytes")
    return bytes(out)


def extension_of(name: str) -> str:
    """The lower-case extension of a file name ('' when none)."""
    return Path(name).suffix.lower()


def preflight(
    path: Path, original_name: str | None = None, limits: Limits = DEFAULT_LIMITS
) -> list[Finding]:
    """The file-level problems that stop `path` being opened; empty when it may be parsed.

    `original_name` is the name the submitter gave the file (the archive may store it under
    its hash); the extension rule applies to it.
    """
    name = original_name or path.name
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        return [
            make_finding(
                "P-UNREADABLE",
                detail=f"the file could not be opened: {exc.strerror or type(exc).__name__}",
            )
        ]
    if size == 0:
        return [make_finding("P-EMPTY")]

    findings: list[Finding] = []
    ext = extension_of(name)
    if ext != ".xlsx":
        shown = OTHER_EXTENSIONS.get(ext, f"'{ext}'" if ext else "nothing")
        findings.append(
            make_finding(
                "P-EXTENSION", value=name, detail=shown, expected="a file name ending in .xlsx"
            )
        )
    if size > limits.max_file_bytes:
        findings.append(
            make_finding(
                "P-TOO-LARGE", detail=f"{size:,} bytes; the limit is {limits.max_file_bytes:,}"
            )
        )
        return findings

    if head.startswith(OLE2_MAGIC):
        if _ole_is_encrypted(path):
            findings.append(make_finding("P-ENCRYPTED", expected="a workbook with no password"))
        elif ext == ".xlsx":
            findings.append(_not_xlsx("an old-style Excel 97-2003 (.xls) workbook"))
        return findings
    if not head.startswith(ZIP_MAGICS):
        if ext == ".xlsx":
            findings.append(_not_xlsx(describe_content(head)))
        return findings
    return findings + _zip_findings(path, ext, limits)


def _not_xlsx(what: str) -> Finding:
    return make_finding(
        "P-NOT-XLSX", detail=what, value=what, expected="an Excel Workbook (.xlsx) saved from Excel"
    )


def describe_content(head: bytes) -> str:
    """What the first bytes of a non-zip, non-OLE2 file look like, in plain words."""
    text = head.lstrip(b"\xef\xbb\xbf\xff\xfe\xfe\xff \t\r\n").lower()
    if text.startswith(b"%pdf"):
        return "a PDF document"
    if text.startswith(b"{\\rtf"):
        return "a Rich Text (RTF) document"
    if text.startswith(b"<"):
        if b"excel.sheet" in text or b"schemas-microsoft-com:office:spreadsheet" in text:
            return "an Excel 2003 XML spreadsheet"
        if b"<html" in text or b"<!doctype html" in text or b"<table" in text:
            return "a web page (HTML)"
        return "an XML or HTML file"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        try:
            head.decode("utf-16")
            if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
                return "text (probably a CSV or tab-separated export)"
        except UnicodeDecodeError:
            pass
        printable = sum(32 <= b < 127 or b in b"\t\r\n" for b in head)
        if printable / max(len(head), 1) > 0.95:
            return "text (probably a CSV or tab-separated export)"
        return "not a recognised spreadsheet format"
    return "text (probably a CSV or tab-separated export)"


def _ole_is_encrypted(path: Path) -> bool:
    """True for an OLE2 container holding an encrypted workbook (OOXML or legacy .xls)."""
    try:
        import olefile

        with olefile.OleFileIO(str(path)) as ole:
            if ole.exists("EncryptionInfo") or ole.exists("EncryptedPackage"):
                return True
    except Exception:  # noqa: BLE001 - a damaged container is simply "not encrypted"
        return False
    try:
        import msoffcrypto

        with path.open("rb") as fh:
            return bool(msoffcrypto.OfficeFile(fh).is_encrypted())
    except Exception:  # noqa: BLE001 - msoffcrypto raises on formats it does not know
        return False


def _zip_findings(path: Path, ext: str, limits: Limits) -> list[Finding]:
    """Problems of a zip container: not a workbook, macros, or beyond the size limits."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > limits.max_entries:
                return [
                    make_finding(
                        "P-TOO-LARGE",
                        detail=f"{len(infos):,} parts inside; the limit is {limits.max_entries:,}",
                    )
                ]
            names = {i.filename.lower(): i for i in infos}
            kind = _zip_kind(zf, names, limits)
            if kind is not None:
                return [_not_xlsx(kind)] if ext == ".xlsx" else []
            findings = _macro_findings(zf, names, limits)
            too_big = _size_problem(infos, limits)
            if too_big:
                findings.append(make_finding("P-TOO-LARGE", detail=too_big))
            return findings
    except PartProblem as exc:
        return [make_finding("P-UNREADABLE", detail=f"a part of the zip {exc}")]
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        OSError,
        EOFError,
        ValueError,
    ) as exc:
        return [
            make_finding(
                "P-UNREADABLE", detail=f"the zip container is damaged: {type(exc).__name__}"
            )
        ]


def _zip_kind(zf: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo], limits: Limits) -> str | None:
    """None for an Office Open XML workbook, else what the zip holds in plain words."""
    if "mimetype" in names and names["mimetype"].file_size < 200:
        mime = bounded_read(zf, names["mimetype"].filename, 200).decode("ascii", "replace")
        if "opendocument.spreadsheet" in mime:
            return "an OpenDocument spreadsheet (.ods)"
        if "opendocument" in mime:
            return "an OpenDocument file"
    if "[content_types].xml" not in names:
        return "a zip archive"
    if "xl/workbook.xml" not in names:
        if "word/document.xml" in names:
            return "a Word document"
        if "ppt/presentation.xml" in names:
            return "a PowerPoint presentation"
        if "xl/workbook.bin" in names:
            return "an Excel binary workbook (.xlsb)"
        return "an Office file that is not a workbook"
    return None


def _macro_findings(
    zf: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo], limits: Limits
) -> list[Finding]:
    found = [n for n in names if n.endswith("vbaproject.bin") or n.endswith(".bin") and "vba" in n]
    info = names["[content_types].xml"]
    if info.file_size <= limits.max_content_types_bytes:
        ctypes = bounded_read(zf, info.filename, limits.max_content_types_bytes).lower()
        if any(m in ctypes for m in MACRO_CONTENT_TYPES):
            found.append("a macro-enabled content type")
    if not found:
        return []
    return [
        make_finding(
            "P-MACRO",
            detail=", ".join(sorted(set(found))),
            expected="a workbook without macros (.xlsx)",
        )
    ]


def _size_problem(infos: list[zipfile.ZipInfo], limits: Limits) -> str | None:
    """Why the declared sizes look like a zip bomb, or None."""
    total = sum(i.file_size for i in infos)
    if total > limits.max_uncompressed_bytes:
        return f"it would unpack to {total:,} bytes; the limit is {limits.max_uncompressed_bytes:,}"
    for i in infos:
        if i.file_size > limits.ratio_floor_bytes:
            ratio = i.file_size / max(i.compress_size, 1)
            if ratio > limits.max_ratio:
                return (
                    f"one part is compressed {ratio:,.0f} times; "
                    f"the limit is {limits.max_ratio:,.0f}"
                )
    return None
