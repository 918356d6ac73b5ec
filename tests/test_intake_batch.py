"""Batch checking and the hash cache give the same filing as one file at a time."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
import sqlalchemy as sa

from transforms.intake import arrival
from transforms.intake.filing import IntakeFolder, run_intake, run_intakes
from transforms.store import ledger
from transforms.store.db import create_all, make_engine, sqlite_url

NOW = dt.datetime(2021, 3, 1, 12, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def sample_files(tmp_path_factory):
    """Four quarters of the sample partnership, all workbooks at once (cross-quarter rules)."""
    from transforms.sample import generate_sample

    base = tmp_path_factory.mktemp("batch")
    sample = generate_sample(base / "sample", first=dt.date(2019, 9, 30), last=dt.date(2020, 6, 30))
    return sample


def _folder(sample, base, name) -> IntakeFolder:
    inbox, output = base / f"inbox{name}", base / f"out{name}"
    inbox.mkdir()
    for d in sample.deliveries:
        shutil.copy2(d.file, inbox / d.file.name)
    engine = make_engine(sqlite_url(output))
    create_all(engine)
    return IntakeFolder(inbox, output, engine)


def _filed(sample, base, batch_size):
    folder = _folder(sample, base, batch_size)
    run_intake(
        folder.inbox, folder.output, folder.engine, now=NOW, stable_wait=0.0, batch_size=batch_size
    )
    return _ledger(folder.engine)


def _ledger(engine):
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
                ledger.files.c.original_name,
                ledger.findings.c.rule,
                ledger.findings.c.cell,
                ledger.findings.c.severity,
            ).join(ledger.files, ledger.files.c.sha256 == ledger.findings.c.sha256)
        ).all()
    engine.dispose()
    return sorted(subs), sorted(found, key=str)


@pytest.mark.slow
def test_batches_file_exactly_as_one_by_one(sample_files, tmp_path):
    one = _filed(sample_files, tmp_path, 1)
    batched = _filed(sample_files, tmp_path, 7)  # batches straddle quarters
    assert len(one[0]) == len(sample_files.deliveries)
    assert batched == one
    # the batch really mixed outcomes (not a vacuous comparison)
    assert {s.status for s in one[0]} >= {"accepted", "rejected"}
    # the cross-quarter rules had last quarter's data in the batch: the expected statuses
    # of the generator hold for every workbook that does not depend on arrival order
    expected = {d.file.name: d.expected_status for d in sample_files.deliveries}
    rejected = {s.original_name for s in batched[0] if s.status == "rejected"}
    assert rejected == {n for n, st in expected.items() if st == "rejected"}


@pytest.mark.slow
def test_new_files_are_read_from_when_they_are_archived_and_only_once(
    sample_files, tmp_path, monkeypatch
):
    """Each new file is offered to the sandboxed readers as its archived copy is made, and
    read once: ahead (up to a batch's worth) or, beyond that, when its batch comes."""
    from transforms.intake import reading, sandbox

    offered, read = [], []
    real_offer, real_add = reading.SandboxedReading.offer, sandbox.Reading.add

    def offer(self, path, name):
        assert path.read_bytes() and not path.stat().st_mode & 0o222  # the read-only copy
        offered.append(name)
        real_offer(self, path, name)

    def add(self, path, kwargs):
        read.append(kwargs["name"])
        return real_add(self, path, kwargs)

    monkeypatch.setattr(reading.SandboxedReading, "offer", offer)
    monkeypatch.setattr(sandbox.Reading, "add", add)
    folders = [_folder(sample_files, tmp_path, f"p{i}") for i in range(2)]
    results = run_intakes(folders, now=NOW, stable_wait=0.0, batch_size=5)
    names = sorted(d.file.name for d in sample_files.deliveries) * 2
    assert sorted(offered) == sorted(names)
    assert sorted(read) == sorted(names)
    assert [r.counts["processed"] for r in results] == [len(names) // 2] * 2
    for folder in folders:
        folder.engine.dispose()


@pytest.mark.slow
def test_an_intake_whose_read_ahead_cannot_fork_reads_its_batch_as_before(
    sample_files, tmp_path, monkeypatch, caplog
):
    """Reading ahead only saves time: if its children cannot be forked, the batch reads
    the files itself and files them as one by one does."""
    import os

    from transforms.intake import sandbox

    alone = _filed(sample_files, tmp_path, 1)
    real_fork, refused = os.fork, []

    def fork():
        if not refused:
            refused.append(True)
            raise BlockingIOError("no more processes")
        return real_fork()

    monkeypatch.setattr(sandbox.os, "fork", fork)
    folder = _folder(sample_files, tmp_path, "refused")
    result = run_intakes([folder], now=NOW, stable_wait=0.0, batch_size=500)[0]
    assert "reading ahead not started (BlockingIOError)" in caplog.text
    assert result.counts["processed"] == len(sample_files.deliveries)
    assert _ledger(folder.engine) == alone


@pytest.mark.slow
def test_many_folders_share_gx_batches_and_file_as_each_alone(sample_files, tmp_path):
    alone = _filed(sample_files, tmp_path, 1)
    # Three partnerships in one call, batches of 11 straddling folders and quarters.
    folders = [_folder(sample_files, tmp_path, f"p{i}") for i in range(3)]
    results = run_intakes(folders, now=NOW, stable_wait=0.0, batch_size=11)
    assert [r.counts for r in results] == [results[0].counts] * 3
    assert results[0].counts["processed"] == len(sample_files.deliveries)
    for folder in folders:
        assert _ledger(folder.engine) == alone
        assert len(list((folder.inbox / "feedback").glob("*.feedback.xlsx"))) == len(
            sample_files.deliveries
        )
        folder.engine.dispose()


def test_unchanged_files_are_not_hashed_again_and_changed_ones_are(tmp_path, monkeypatch):
    from tests.test_intake import fake_checker, fake_writer, make_return

    inbox, output = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    engine = make_engine(sqlite_url(output))
    make_return(inbox / "CSW.xlsx")
    kw = dict(now=NOW, stable_wait=0.0, checker=fake_checker, feedback_writer=fake_writer)
    run_intake(inbox, output, engine, **kw)
    hashed = []
    real = arrival.sha256_file

    def counting(path):
        hashed.append(path.name)
        return real(path)

    monkeypatch.setattr("transforms.intake.receiving.sha256_file", counting)
    slept = []
    again = run_intake(inbox, output, engine, sleep=slept.append, **kw)
    assert hashed == [] and slept == []  # nothing read, no stability wait
    assert again.unchanged == 1
    make_return(inbox / "CSW.xlsx", values=(6, 3, 41), mtime=1.6e9)  # changed
    changed = run_intake(inbox, output, engine, **kw)
    assert hashed == ["CSW.xlsx"]
    assert changed.counts["processed"] == 1
    engine.dispose()


def _store_item(conn, submitter, sheet, item, quarter_end):
    """The per-file query intake used to make: the item's value in the in-force return of
    the quarter before `quarter_end` (the latest in intake order)."""
    from transforms.findings import IN_FORCE
    from transforms.quarters import previous_quarter
    from transforms.store.accepted import tables

    table = tables()[sheet]
    value = (
        conn.execute(
            sa.select(table.c.value)
            .join(ledger.submissions, ledger.submissions.c.sha256 == table.c.sha256)
            .where(
                ledger.submissions.c.status.in_(IN_FORCE),
                table.c.submitter == submitter,
                table.c.quarter_end == previous_quarter(quarter_end),
                table.c.item == item,
            )
            .order_by(ledger.submissions.c.seq.desc())
        )
        .scalars()
        .first()
    )
    return None if value is None else int(value)


def _store_progress(conn, submitter, quarter_end):
    """The per-file query for last quarter's in-force Progress return: action -> status."""
    from transforms.findings import IN_FORCE
    from transforms.quarters import previous_quarter
    from transforms.store.accepted import tables

    table = tables()["Progress"]
    rows = conn.execute(
        sa.select(table.c.action_id, table.c.status)
        .join(ledger.submissions, ledger.submissions.c.sha256 == table.c.sha256)
        .where(
            ledger.submissions.c.status.in_(IN_FORCE),
            table.c.submitter == submitter,
            table.c.quarter_end == previous_quarter(quarter_end),
        )
        .order_by(table.c.excel_row)
    )
    return {a: st for a, st in rows if a is not None and st is not None}


@pytest.mark.slow
def test_batch_prior_data_reads_the_store_as_the_per_file_look_ups_do(sample_files, tmp_path):
    """`BatchPriorData` (the one prior-data class, for a batch of any size) reads the store
    once per item and once for progress; every answer must equal the per-file query written
    above, for every return, item and quarter."""
    from transforms.findings import IN_FORCE
    from transforms.intake.prior import BatchPriorData
    from transforms.quarters import shift_quarters
    from transforms.store.accepted import tables

    folder = _folder(sample_files, tmp_path, "prior")
    run_intake(folder.inbox, folder.output, folder.engine, now=NOW, stable_wait=0.0, batch_size=1)
    items_answers = progress_answers = 0
    with folder.engine.connect() as conn:
        batch = BatchPriorData(conn)
        for sheet, table in tables().items():
            if "item" not in table.c:
                continue
            keys = conn.execute(
                sa.select(table.c.submitter, table.c.quarter_end, table.c.item).distinct()
            ).all()
            for submitter, quarter, item in keys:
                asked = shift_quarters(quarter, 1)  # last quarter of the quarter after
                want = _store_item(conn, submitter, sheet, item, asked)
                assert batch.previous_item(submitter, sheet, item, asked) == want
                items_answers += want is not None
        progress = tables()["Progress"]
        for submitter, quarter in conn.execute(
            sa.select(progress.c.submitter, progress.c.quarter_end).distinct()
        ).all():
            want = _store_progress(conn, submitter, shift_quarters(quarter, 1))
            assert batch.previous_progress(submitter, shift_quarters(quarter, 1)) == want
            progress_answers += bool(want)
        # the seqs of the returns in force, read at once, are each return's own look-up's
        seqs = ledger.return_seqs(conn, IN_FORCE)
        returns = conn.execute(
            sa.select(ledger.submissions.c.submitter, ledger.submissions.c.quarter_end).distinct()
        ).all()
        for submitter, quarter in returns:
            want_seqs = [r.seq for r in ledger.same_return(conn, submitter, quarter, IN_FORCE)]
            assert seqs.get((submitter, quarter), []) == want_seqs
        assert sum(map(len, seqs.values())) > 10
    folder.engine.dispose()
    assert items_answers > 10 and progress_answers > 2  # not a vacuous comparison


def test_a_rerun_with_nothing_new_imports_no_pandas_and_loads_no_spec(tmp_path):
    """The re-run target (2 % of a cold intake) is mostly start-up: keep it lean."""
    import subprocess
    import sys
    from pathlib import Path

    from tests.test_intake import fake_checker, fake_writer, make_return

    inbox, output = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    make_return(inbox / "CSW.xlsx")
    engine = make_engine(sqlite_url(output))
    run_intake(
        inbox,
        output,
        engine,
        now=NOW,
        stable_wait=0.0,
        checker=fake_checker,
        feedback_writer=fake_writer,
    )
    engine.dispose()
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from transforms.intake.filing import run_intake\n"
        "from transforms.store.db import make_engine, sqlite_url\n"
        f"inbox, output = Path({str(inbox)!r}), Path({str(output)!r})\n"
        "r = run_intake(inbox, output, make_engine(sqlite_url(output)), stable_wait=0)\n"
        "heavy = ('pandas', 'numpy', 'pydantic', 'transforms.spec', 'great_expectations')\n"
        "print(r.unchanged, sorted(m for m in heavy if m in sys.modules))\n"
    )
    repo = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert out.stdout.split("\n")[0] == "1 []", out.stdout + out.stderr


def test_a_rerun_with_nothing_new_only_reads_and_asks_the_ledger_once(tmp_path):
    """Per store, a re-run with nothing new asks for the table names, the folder's cached
    hashes and the ledger's state (names included), and opens no write transaction."""
    from tests.test_intake import fake_checker, fake_writer, make_return

    inbox, output = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    make_return(inbox / "CSW.xlsx")
    make_return(inbox / "HSCP.xlsx", submitter="HSCP")
    engine = make_engine(sqlite_url(output))
    kw = dict(now=NOW, stable_wait=0.0, checker=fake_checker, feedback_writer=fake_writer)
    assert run_intake(inbox, output, engine, **kw).counts["processed"] == 2
    engine.dispose()
    engine = make_engine(sqlite_url(output))
    said: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: said.append(a[2]))
    committed: list[bool] = []
    sa.event.listen(engine, "commit", lambda conn: committed.append(True))
    again = run_intake(inbox, output, engine, **kw)
    engine.dispose()
    assert again.unchanged == 2 and again.counts["processed"] == 0
    statements = [" ".join(s.split()).upper() for s in said if not s.startswith("PRAGMA")]
    assert all(s.startswith("SELECT") for s in statements), statements
    assert len(statements) == 3, statements  # table names, cached hashes, ledger state
    assert committed == []


def test_the_hash_cache_of_a_folder_is_that_folder_s_only(tmp_path):
    """Folder names holding LIKE's wildcards (`_`, `%`) or the escape character match only
    themselves; a folder's neighbour with a longer name is not its sub-folder."""
    engine = make_engine(sqlite_url(tmp_path))
    create_all(engine, sheets=False)
    entries = [
        {"path": f"/r/{name}/a.xlsx", "size": 1, "mtime_ns": 2, "sha256": name}
        for name in ("in_1", "inx1", "in%", "in!x", "in!", "in_10")
    ]
    with engine.begin() as conn:
        ledger.remember_hashes(conn, entries)
        for name in ("in_1", "in%", "in!", "in!x"):
            assert ledger.cached_hashes(conn, f"/r/{name}") == {f"/r/{name}/a.xlsx": (1, 2, name)}
        assert ledger.cached_hashes(conn, "/r/in_1/") == {"/r/in_1/a.xlsx": (1, 2, "in_1")}
    engine.dispose()


def _feedback(folder: IntakeFolder) -> dict[str, bytes]:
    """Every feedback text, by name, and where the ledger says each workbook's feedback is."""
    texts = {p.name: p.read_bytes() for p in (folder.inbox / "feedback").glob("*.txt")}
    with folder.engine.connect() as conn:
        places = conn.execute(
            sa.select(ledger.submissions.c.sha256, ledger.submissions.c.feedback_path)
        ).all()
    texts["(ledger)"] = repr(sorted((sha, str(p).rsplit("/", 1)[-1]) for sha, p in places)).encode()
    return texts


def test_feedback_written_in_a_forked_child_is_what_this_process_writes(
    sample_files, tmp_path, monkeypatch
):
    """Each group's feedback is written beside the next group's filing (`Answering`): on two
    cores in a child, on one here. The feedback and its ledgered places are the same."""
    got = {}
    for cores in ("1", "2"):
        monkeypatch.setenv("DATASUMMARY_PROCESSES", cores)
        folder = _folder(sample_files, tmp_path, f"cores{cores}")
        result = run_intake(
            folder.inbox, folder.output, folder.engine, now=NOW, stable_wait=0.0, batch_size=7
        )
        assert all(p.feedback for p in result.processed)
        got[cores] = _feedback(folder)
    assert len(got["1"]) > 10
    assert got["1"] == got["2"]


def test_one_child_writes_the_feedback_of_every_folder_in_a_batch(
    sample_files, tmp_path, monkeypatch
):
    """Forking the intake process (hundreds of MiB) once per filed group cost more than the
    writing it moved off; one child takes every group of the batch, and each folder's
    feedback is still written and ledgered."""
    from transforms.forked_stream import Stream

    monkeypatch.setenv("DATASUMMARY_PROCESSES", "2")
    forks = []
    start = Stream._start

    def counted(self):
        forks.append(1)
        start(self)

    monkeypatch.setattr(Stream, "_start", counted)
    folders = [_folder(sample_files, tmp_path, n) for n in range(3)]
    results = run_intakes(folders, now=NOW, stable_wait=0.0, batch_size=500)
    assert len(forks) == 1
    for folder, result in zip(folders, results, strict=True):
        assert result.processed and all(p.feedback for p in result.processed)
        with folder.engine.connect() as conn:
            subs = ledger.submissions
            unrecorded = conn.execute(
                sa.select(sa.func.count()).where(subs.c.feedback_path.is_(None))
            ).scalar()
        assert unrecorded == 0
