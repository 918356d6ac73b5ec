"""SandboxedReading: files offered as they are archived are read once, and read as a check
would read them; the rest are read when asked for."""

from __future__ import annotations

import time
from pathlib import Path

from tests.returns_builder import TODAY, valid_sheets, write_workbook
from transforms.intake import validate
from transforms.intake.preflight import DEFAULT_LIMITS
from transforms.intake.sandbox import INTAKE_SANDBOX, Reading
from transforms.spec import default_spec


def _returns(tmp_path: Path, n: int) -> list[tuple[Path, str]]:
    return [
        (write_workbook(valid_sheets(code), tmp_path / f"{code}.xlsx"), f"{code} as sent.xlsx")
        for code in ["EDU", "CSW", "NHSG"][:n]
    ]


def _summary(parsed: validate.Parsed) -> tuple[object, ...]:
    result = parsed.result
    return (
        result.file_name,
        result.cover,
        sorted(f.rule for f in result.findings),
        {
            name: (frame.to_csv(), list(map(str, frame.dtypes)))
            for name, frame in result.sheets.items()
        },
    )


def test_offered_files_are_read_once_and_as_a_check_reads_them(tmp_path, monkeypatch) -> None:
    items = _returns(tmp_path, 3)
    added: list[str] = []
    real_add = Reading.add

    def add(self: Reading, path: Path, kwargs: dict[str, object]) -> int:
        added.append(path.name)
        return real_add(self, path, kwargs)

    monkeypatch.setattr(Reading, "add", add)
    with validate.read_ahead(None, TODAY, limit=2) as ahead:
        for path, name in items:  # the third is beyond the limit: read when asked for
            ahead.offer(path, name)
        assert added == ["EDU.xlsx", "CSW.xlsx"]
        seen: list[int] = []
        parsed = ahead.parsed(list(reversed(items)), seen.append)
    assert added == ["EDU.xlsx", "CSW.xlsx", "NHSG.xlsx"]
    assert seen[-1] == 3
    in_process = validate.gx_checked_workbooks(list(reversed(items)), today=TODAY)
    fresh = [validate.read_one(p, n, DEFAULT_LIMITS, _parse) for p, n in reversed(items)]
    assert [_summary(p) for p in parsed] == [_summary(p) for p in fresh]
    assert [p.result.file_name for p in in_process] == [n for _, n in reversed(items)]


def _parse(path: Path, original_name: str | None = None) -> validate.Parsed:
    return validate.parse_workbook(
        path, spec=default_spec(), today=TODAY, limits=DEFAULT_LIMITS, original_name=original_name
    )


def test_a_reading_with_other_settings_is_not_used(tmp_path) -> None:
    spec = default_spec()
    with validate.read_ahead(spec, TODAY, limit=1) as ahead:
        assert ahead.suits(spec, TODAY, DEFAULT_LIMITS, INTAKE_SANDBOX)
        assert not ahead.suits(spec, TODAY.replace(day=16), DEFAULT_LIMITS, INTAKE_SANDBOX)
        assert not ahead.suits(spec, TODAY, DEFAULT_LIMITS, validate.Sandbox(timeout_s=1))


def test_the_warming_has_finished_when_the_batch_is_read(tmp_path) -> None:
    """GX is loaded on a thread while the children read; the GX stage that follows must
    not start while that thread is still building the suites."""
    from transforms.intake.reading import SandboxedReading

    finished: list[bool] = []

    def warm() -> None:
        time.sleep(0.5)
        finished.append(True)

    ((path, name),) = _returns(tmp_path, 1)
    config = (default_spec(), TODAY, DEFAULT_LIMITS, INTAKE_SANDBOX)
    with SandboxedReading(config, _parse, 1, warm=warm) as reading:
        parsed = reading.parsed([(path, name)], lambda n: None)
        assert finished == [True]
    assert parsed[0].result.file_name == name
