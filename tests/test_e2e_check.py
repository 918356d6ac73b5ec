"""`datasummary check` on every sample return gives the status the sample expects."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from transforms.findings import STATUS_ACCEPTED, STATUS_SUPERSEDED
from transforms.intake.validate import check_workbook

pytestmark = pytest.mark.e2e


def _expected_alone(status: str) -> str:
    # Superseding happens at intake; checked alone, a superseded workbook is accepted.
    return STATUS_ACCEPTED if status == STATUS_SUPERSEDED else status


def test_every_sample_return_gets_its_expected_status(sample_store):
    sample = sample_store["sample"]
    for d in sample.deliveries:
        parsed = check_workbook(d.file, today=dt.date(2023, 1, 31))
        assert parsed.status == _expected_alone(d.expected_status), (
            d.file.name,
            d.fault,
            [(f.rule, f.location()) for f in parsed.findings],
        )


def test_intake_gives_every_delivery_its_expected_status(sample_store):
    by_name = {p.original_name: p.status for r in sample_store["results"] for p in r.processed}
    import sqlalchemy as sa

    from transforms.store import ledger

    with sample_store["engine"].connect() as conn:
        final = dict(
            conn.execute(
                sa.select(ledger.files.c.original_name, ledger.submissions.c.status).join(
                    ledger.submissions, ledger.submissions.c.sha256 == ledger.files.c.sha256
                )
            ).all()
        )
    for d in sample_store["sample"].deliveries:
        assert d.file.name in by_name, d.file.name
        assert final[d.file.name] == d.expected_status, (d.file.name, d.fault)


def test_check_command_exit_codes(sample_store):
    deliveries = sample_store["sample"].deliveries
    good = next(d for d in deliveries if d.expected_status == STATUS_ACCEPTED)
    bad = next(d for d in deliveries if d.expected_status == "rejected")
    cmd = [sys.executable, "-m", "datasummary.cli", "check"]
    ok = subprocess.run([*cmd, str(good.file)], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "accepted" in ok.stdout.splitlines()[0]
    no = subprocess.run([*cmd, str(bad.file)], capture_output=True, text=True, timeout=120)
    assert no.returncode == 1, no.stdout + no.stderr
    assert "rejected" in no.stdout.splitlines()[0]


@pytest.mark.office
def test_a_filled_template_saved_again_by_libreoffice_is_still_accepted(sample_store, tmp_path):
    """What a lead using LibreOffice sends: the filled template, re-saved by Calc as .xlsx."""
    import shutil

    from transforms.reports.preview import office_binary

    office = office_binary()
    if office is None:
        pytest.skip("LibreOffice not installed")
    last = max(d.quarter_end for d in sample_store["sample"].deliveries)
    chosen = {
        d.submitter: d
        for d in sample_store["sample"].deliveries
        if d.quarter_end == last and d.expected_status == STATUS_ACCEPTED
    }
    src = tmp_path / "src"
    src.mkdir()
    for d in chosen.values():
        shutil.copy(d.file, src / d.file.name)
    out = tmp_path / "resaved"
    subprocess.run(
        [
            office,
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/profile",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(out),
            *sorted(str(p) for p in src.iterdir()),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert len(chosen) >= 8
    for d in chosen.values():
        parsed = check_workbook(out / d.file.name, today=dt.date(2023, 1, 31))
        assert parsed.status == STATUS_ACCEPTED, (
            d.file.name,
            [(f.rule, f.location()) for f in parsed.findings],
        )
