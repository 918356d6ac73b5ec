"""Random damage to a valid workbook never stops intake (issue 12, returns.md §3).

Each example takes a valid return, damages it one way — a cell moved far away, a part's
declared size forged, the file cut short, two parts' contents swapped — gives it a mangled
name, and drops it in an inbox beside an intact return. Intake, with the real checker and
feedback writers, must finish, file the intact return, give the damaged file a fate
(filed with a status, or listed as passed over with a reason) and answer it with a
feedback file of its own.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import struct
import tempfile
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.returns_builder import valid_sheets, write_workbook
from transforms.intake.feedback_place import feedback_paths
from transforms.intake.filing import run_intake
from transforms.store.db import create_all, make_engine, sqlite_url

NOW = dt.datetime(2020, 10, 15, 9, 0, tzinfo=dt.UTC)
_BASE = Path(tempfile.mkdtemp(prefix="damage-"))
VALID = write_workbook(valid_sheets("EDU"), _BASE / "valid.xlsx")
OTHER = write_workbook(valid_sheets("CSW"), _BASE / "other.xlsx")


def _parts(path: Path) -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(path) as zf:
        return [(i, zf.read(i)) for i in zf.infolist()]


def _write(parts: list[tuple[zipfile.ZipInfo, bytes]], dst: Path) -> None:
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in parts:
            zout.writestr(info, data)


def cell_moved_far(dst: Path, data: st.DataObject) -> None:
    parts = _parts(VALID)
    sheets = [i for i, (info, _) in enumerate(parts) if info.filename.startswith("xl/worksheets/")]
    k = data.draw(st.sampled_from(sheets))
    info, xml = parts[k]
    refs = re.findall(rb'<c r="([A-Z]+\d+)"', xml)
    old = data.draw(st.sampled_from(refs))
    col = data.draw(st.sampled_from(["A", "Z", "IV", "IW", "XFD"]))
    row = data.draw(st.sampled_from([1, 99_999, 100_001, 1_048_576]))
    parts[k] = (info, xml.replace(b'r="' + old + b'"', f'r="{col}{row}"'.encode(), 1))
    _write(parts, dst)


def size_forged(dst: Path, data: st.DataObject) -> None:
    shutil.copy(VALID, dst)
    raw = bytearray(dst.read_bytes())
    heads = [m.start() for m in re.finditer(b"PK\x01\x02", raw)]
    at = data.draw(st.sampled_from(heads))
    size = data.draw(st.sampled_from([0, 1, 100, 2**31, 2**32 - 2]))
    struct.pack_into("<I", raw, at + 24, size)
    dst.write_bytes(bytes(raw))


def truncated(dst: Path, data: st.DataObject) -> None:
    raw = VALID.read_bytes()
    dst.write_bytes(raw[: data.draw(st.integers(0, len(raw) - 1))])


def parts_swapped(dst: Path, data: st.DataObject) -> None:
    parts = _parts(VALID)
    i, j = data.draw(st.lists(st.integers(0, len(parts) - 1), min_size=2, max_size=2, unique=True))
    (a, da), (b, db) = parts[i], parts[j]
    parts[i], parts[j] = (a, db), (b, da)
    _write(parts, dst)


DAMAGE = [cell_moved_far, size_forged, truncated, parts_swapped]
NAME = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"),
    min_size=1,
    max_size=60,
).filter(lambda s: not s.startswith((".", "~$")) and s.strip() == s and s not in ("feedback",))
SUFFIX = st.sampled_from([".xlsx", ".XLSX", ".xlsm", "", ".xlsx" + "x" * 200])


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(damage=st.sampled_from(DAMAGE), stem=NAME, suffix=SUFFIX, data=st.data())
def test_random_damage_never_stops_intake(damage, stem, suffix, data) -> None:
    work = Path(tempfile.mkdtemp(dir=_BASE))
    inbox, output = work / "inbox", work / "out"
    inbox.mkdir()
    name = (stem + suffix)[:240]
    while len(name.encode("utf-8")) > 240:  # a file system limits bytes, not characters
        name = name[:-1]
    if name.endswith(".tmp") or name.lower() == "other.xlsx":
        name += "_"
    damage(inbox / name, data)
    shutil.copy(OTHER, inbox / "other.xlsx")
    engine = make_engine(sqlite_url(output))
    create_all(engine)
    try:
        result = run_intake(inbox, output, engine, now=NOW, stable_wait=0.0)
    finally:
        engine.dispose()
    fates = {p.original_name: p.status for p in result.processed}
    fates |= {r["file"]: r["reason"] for r in result.passed_over()}
    assert fates.get("other.xlsx") == "accepted"
    assert name in fates
    assert feedback_paths(inbox, name)[0].is_file()
    assert result.feedback_problem is None
    shutil.rmtree(work, ignore_errors=True)
