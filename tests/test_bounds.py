"""Reading is bounded before anything is allocated (returns.md §3, issue 12).

A value in a far cell, a lying `<dimension>` or a part that inflates past its declared size
must end as a finding naming the sheet and cell (or the part), in bounded memory. The
hostile files are run in a subprocess under an address-space cap of 1.5 GiB: before the
fix the far cell aborted the process (calamine asked for 512 GiB) and the forged part cost
2.2 GB on its way to being rejected.
"""

from __future__ import annotations

import json
import os
import re
import signal
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.returns_builder import TODAY, valid_sheets, write_workbook
from transforms.intake import validate
from transforms.intake.bounds import column_letters, column_number, scan_workbook
from transforms.intake.validate import Sandbox, check_workbook

REPO = Path(__file__).resolve().parent.parent
CAP = 1536 * 1024 * 1024  # 1.5 GiB of address space
SHEET = "xl/worksheets/sheet3.xml"  # School_Outcomes in the EDU return


def _rewrite(src: Path, dst: Path, part: str, change) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info, change(data) if info.filename == part else data)
    return dst


def far_cell(tmp: Path, ref: str = "XFD1048576") -> Path:
    """A valid return with one value in a far-away cell."""
    src = write_workbook(valid_sheets("EDU"), tmp / "src.xlsx")
    row = re.sub(r"\D", "", ref)
    cell = f'<row r="{row}"><c r="{ref}"><v>1</v></c></row>'.encode()
    return _rewrite(
        src, tmp / "far.xlsx", SHEET, lambda d: d.replace(b"</sheetData>", cell + b"</sheetData>")
    )


def lying_dimension(tmp: Path) -> Path:
    """A valid return whose School_Outcomes sheet claims the whole grid."""
    src = write_workbook(valid_sheets("EDU"), tmp / "src.xlsx")
    return _rewrite(
        src,
        tmp / "dim.xlsx",
        SHEET,
        lambda d: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', d),
    )


def forged_size(tmp: Path, real_mib: int = 300) -> Path:
    """A valid return whose School_Outcomes part inflates to `real_mib` MiB but declares ~2 KB."""
    src = write_workbook(valid_sheets("EDU"), tmp / "src.xlsx")
    dst = tmp / "forged.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename != SHEET:
                zout.writestr(info, data)
                continue
            head, tail = data.split(b"</sheetData>")
            forged = zipfile.ZipInfo(SHEET, info.date_time)
            forged.compress_type = zipfile.ZIP_DEFLATED
            with zout.open(forged, "w") as fh:
                fh.write(head)
                pad = b" " * (1 << 20)
                for _ in range(real_mib):
                    fh.write(pad)
                fh.write(b"</sheetData>" + tail)
            declared = len(data)
    raw = bytearray(dst.read_bytes())
    name = SHEET.encode()
    for magic, name_at, size_at, head_len in (
        (b"PK\x03\x04", 26, 22, 30),
        (b"PK\x01\x02", 28, 24, 46),
    ):
        i = raw.find(magic)
        while i >= 0:
            n = struct.unpack_from("<H", raw, i + name_at)[0]
            if raw[i + head_len : i + head_len + n] == name:
                struct.pack_into("<I", raw, i + size_at, declared)
            i = raw.find(magic, i + 4)
    dst.write_bytes(bytes(raw))
    return dst


def _capped(code: str, *args: str) -> dict:
    """Run `code` in a fresh interpreter under the address-space cap; its JSON last line."""
    script = (
        "import json, resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({CAP}, {CAP}))\n" + code
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


CHECK = """
import datetime as dt
from pathlib import Path
from transforms.intake.validate import check_workbook
r = check_workbook(Path(sys.argv[1]), today=dt.date(2020, 10, 15))
print(json.dumps({
    "status": r.status,
    "findings": [[f.rule, f.sheet, f.cell, f.message] for f in r.findings],
    # this process's own peak (ru_maxrss would carry the forking parent's over exec)
    "maxrss_kb": int(next(
        line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")
    )),
}))
"""


def test_column_letters_round_trip() -> None:
    for n in (1, 26, 27, 256, 702, 703, 16384):
        assert column_number(column_letters(n)) == n
    assert column_letters(16384) == "XFD" and column_letters(256) == "IV"


@pytest.mark.parametrize(
    ("make", "cell", "says"),
    [
        (far_cell, "XFD1048576", "has a cell at"),
        (lying_dimension, "XFD1048576", "used range reaches"),
    ],
)
def test_far_cells_are_a_finding_naming_sheet_and_cell_under_a_cap(
    tmp_path: Path, make, cell: str, says: str
) -> None:
    out = _capped(CHECK, str(make(tmp_path)))
    assert out["status"] == "rejected"
    assert [f[:3] for f in out["findings"]] == [["S-TOO-MANY-ROWS", "School_Outcomes", cell]]
    assert says in out["findings"][0][3] and cell in out["findings"][0][3]


def test_a_far_cell_just_inside_the_limits_is_read(tmp_path: Path) -> None:
    """IV100000 is within the limits: the sheet is read (by openpyxl, the grid being wide)."""
    result = check_workbook(far_cell(tmp_path, "IV100000"), today=TODAY)
    assert not any(f.rule == "S-TOO-MANY-ROWS" for f in result.findings)


def test_a_part_inflating_past_its_declared_size_is_refused_in_bounded_memory(
    tmp_path: Path,
) -> None:
    out = _capped(CHECK, str(forged_size(tmp_path)))
    assert out["status"] == "rejected"
    assert [f[0] for f in out["findings"]] == ["P-UNREADABLE"]
    assert SHEET in out["findings"][0][3] and "declared size" in out["findings"][0][3]
    assert out["maxrss_kb"] < 400_000  # the 300 MiB part was never held (before: 2 × 300)


def test_scan_reads_cells_without_references_by_position(tmp_path: Path) -> None:
    """Rows and cells may omit `r`: they follow the previous one, and still count."""
    src = write_workbook(valid_sheets("EDU"), tmp_path / "src.xlsx")
    cells = b"<row>" + b"<c><v>1</v></c>" * 300 + b"</row>"
    path = _rewrite(
        src,
        tmp_path / "wide.xlsx",
        SHEET,
        lambda d: d.replace(b"</sheetData>", cells + b"</sheetData>"),
    )
    scan = scan_workbook(path)
    assert [(f.rule, f.sheet, f.cell) for f in scan.findings] == [
        ("S-TOO-MANY-ROWS", "School_Outcomes", "IW7")  # column 257 (IV is 256) of row 7
    ]


def test_a_valid_return_scans_clean(tmp_path: Path) -> None:
    scan = scan_workbook(write_workbook(valid_sheets("EDU"), tmp_path / "ok.xlsx"))
    assert scan.findings == []
    assert {s.title for s in scan.sheets} >= {"Cover", "School_Outcomes"}


def test_a_reader_that_crashes_costs_one_file_not_the_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A native crash while reading (here a segfault) becomes a finding, after one retry."""
    path = write_workbook(valid_sheets("EDU"), tmp_path / "ok.xlsx")
    calls = tmp_path / "calls"

    def crash(*args, **kwargs):
        with calls.open("a") as fh:
            fh.write("x")
        os.kill(os.getpid(), signal.SIGSEGV)

    monkeypatch.setattr(validate, "parse_workbook", crash)
    result = check_workbook(path, today=TODAY, sandbox=Sandbox(timeout_s=60))
    assert [f.rule for f in result.findings] == ["P-UNREADABLE"]
    assert "crashed" in result.findings[0].message
    assert calls.read_text() == "xx"  # tried, retried once, then answered


INTAKE = """
import datetime as dt
from pathlib import Path
from transforms.intake.filing import run_intake
from transforms.store.db import create_all, make_engine, sqlite_url
inbox, output = Path(sys.argv[1]), Path(sys.argv[2])
engine = make_engine(sqlite_url(output))
create_all(engine)
now = dt.datetime(2020, 10, 15, 9, 0, tzinfo=dt.UTC)
r = run_intake(inbox, output, engine, now=now, stable_wait=0.0)
print(json.dumps({p.original_name: [p.status, p.feedback] for p in r.processed}))
"""


def test_a_far_cell_in_one_return_does_not_stop_intake_for_the_others(tmp_path: Path) -> None:
    """The reported case: one 8 KB workbook aborted every intake, for good."""
    inbox, output = tmp_path / "inbox", tmp_path / "output"
    inbox.mkdir()
    far_cell(tmp_path).rename(inbox / "far.xlsx")
    write_workbook(valid_sheets("EDU"), inbox / "edu.xlsx")
    out = _capped(INTAKE, str(inbox), str(output))
    assert out["far.xlsx"][0] == "rejected"
    assert out["edu.xlsx"][0] == "accepted"
    assert (inbox / "feedback" / out["far.xlsx"][1]).is_file()
    again = _capped(INTAKE, str(inbox), str(output))  # and the next intake runs as well
    assert again == {}


SHEET_BODIES = [
    # as spreadsheet tools write it
    b'<dimension ref="A1:C3"/><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c>'
    b'<c r="C1"/></row><row r="3" spans="1:3"><c r="B3"><v>2</v></c></row></sheetData>',
    # rows and cells without r follow the previous ones
    b"<sheetData><row><c><v>1</v></c><c/></row><row><c/><c/><c/></row></sheetData>",
    # a namespace prefix, lower-case letters, a lone dimension, a $-anchored dimension
    b'<x:sheetData><x:row r="2"><x:c r="AA2"/></x:row></x:sheetData>',
    b'<sheetData><row r="4"><c r="ab4"/></row></sheetData>',
    b'<dimension ref="D9"/>',
    b'<dimension ref="$A$1:$Z$40"/><sheetData><row r="40"><c r="Z40"/></row></sheetData>',
    # past the limits: in a cell, and only in the dimension
    b'<sheetData><row r="1"><c r="A1"/><c r="XFD1"/></row><row r="2000000"><c r="A2000000"/>'
    b"</row></sheetData>",
    b'<dimension ref="A1:XFD1048576"/><sheetData><row r="1"><c r="A1"/></row></sheetData>',
    # look-alike tags that are not rows or cells
    b'<cols><col min="1" max="3"/></cols><sheetData><row r="7"><c r="E7"/></row></sheetData>'
    b'<rowBreaks count="1"><brk id="5"/></rowBreaks>',
]


@pytest.mark.parametrize("body", SHEET_BODIES)
@pytest.mark.parametrize("chunk", [7, 23, 64, 1 << 16])
def test_the_plain_pass_measures_every_chunking_as_the_tag_by_tag_pass(
    body: bytes, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transforms.intake import bounds
    from transforms.intake.preflight import DEFAULT_LIMITS

    def measured() -> bounds.SheetExtent:
        extent = bounds.SheetExtent("Sheet")
        pieces = iter([body[i : i + chunk] for i in range(0, len(body), chunk)])
        bounds._measure(pieces, extent, DEFAULT_LIMITS)
        return extent

    plain = measured()
    monkeypatch.setattr(bounds, "_plain_extent", lambda body, limits: None)
    assert plain == measured()


def test_the_usual_sheet_takes_the_plain_pass_and_odd_ones_do_not() -> None:
    from transforms.intake.bounds import _plain_extent
    from transforms.intake.preflight import DEFAULT_LIMITS

    assert _plain_extent(SHEET_BODIES[0], DEFAULT_LIMITS) == (3, 3, 3, 2)
    assert all(_plain_extent(b, DEFAULT_LIMITS) is None for b in SHEET_BODIES[1:4])
    assert _plain_extent(SHEET_BODIES[6], DEFAULT_LIMITS) is None  # the finding needs order
