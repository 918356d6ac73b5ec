"""The one fallback of the one checking path: a batch that fails as a whole is checked again
file by file (each a batch of one), and files exactly as an unbroken batch would."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
import sqlalchemy as sa

from transforms.intake import validate
from transforms.intake.filing import run_intake
from transforms.store import ledger
from transforms.store.db import create_all, make_engine, sqlite_url

NOW = dt.datetime(2020, 7, 10, 12, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """One quarter of the sample partnership: accepted and rejected returns, resubmissions."""
    from transforms.sample import generate_sample

    base = tmp_path_factory.mktemp("fallback")
    q = dt.date(2020, 6, 30)
    return generate_sample(base / "sample", first=q, last=q)


def _filed(sample, base):
    """Intake of the whole quarter at once; the ledger's statuses and findings by file name."""
    inbox, output = base / "inbox", base / "out"
    inbox.mkdir(parents=True)
    for d in sample.deliveries:
        shutil.copy2(d.file, inbox / d.file.name)
    engine = make_engine(sqlite_url(output))
    create_all(engine)
    result = run_intake(inbox, output, engine, now=NOW, stable_wait=0.0)
    with engine.connect() as conn:
        subs = conn.execute(
            sa.select(
                ledger.files.c.original_name,
                ledger.submissions.c.status,
                ledger.submissions.c.errors,
                ledger.submissions.c.warnings,
                ledger.submissions.c.superseded_by,
            ).join(ledger.files, ledger.files.c.sha256 == ledger.submissions.c.sha256)
        ).all()
        found = conn.execute(
            sa.select(
                ledger.files.c.original_name, ledger.findings.c.rule, ledger.findings.c.cell
            ).join(ledger.files, ledger.files.c.sha256 == ledger.findings.c.sha256)
        ).all()
    engine.dispose()
    texts = {p.name: p.read_text() for p in (inbox / "feedback").glob("*.txt")}
    return result, sorted(subs), sorted(found, key=str), texts


@pytest.mark.slow
def test_a_batch_that_fails_as_a_whole_files_each_file_as_alone(sample, tmp_path, monkeypatch):
    whole = _filed(sample, tmp_path / "whole")
    real = validate.gx_checked_workbooks
    sizes = []

    def fails_for_many(files, **kw):
        files = list(files)
        sizes.append(len(files))
        if len(files) > 1:
            raise MemoryError("batch too large")
        return real(files, **kw)

    monkeypatch.setattr(validate, "gx_checked_workbooks", fails_for_many)
    alone = _filed(sample, tmp_path / "alone")
    n = len(sample.deliveries)
    assert sizes == [n] + [1] * n  # the batch, then each file as a batch of one
    assert alone[1:] == whole[1:]  # same statuses, findings and feedback
    assert alone[0].counts == whole[0].counts and alone[0].failed == []
    assert {s.status for s in whole[1]} >= {"accepted", "rejected"}  # not vacuous


@pytest.mark.slow
def test_a_file_whose_batch_of_one_fails_is_kept_and_the_others_are_filed(
    sample, tmp_path, monkeypatch
):
    whole = _filed(sample, tmp_path / "whole")
    bad = "CPC_2020-06-30.xlsx"
    real = validate.rules_checked

    def fails_on_one(parsed, **kw):
        if parsed.result.file_name == bad:
            raise RuntimeError("bug")
        return real(parsed, **kw)

    monkeypatch.setattr(validate, "rules_checked", fails_on_one)
    result, subs, found, texts = _filed(sample, tmp_path / "one bad")
    assert [(s.name, s.reason) for s in result.failed] == [
        (bad, "the checker failed (RuntimeError); will retry next intake")
    ]
    assert subs == [s for s in whole[1] if s.original_name != bad]
    assert found == [f for f in whole[2] if f.original_name != bad]
    assert texts == {k: v for k, v in whole[3].items() if not k.startswith(bad)}
