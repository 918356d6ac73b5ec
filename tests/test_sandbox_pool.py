"""SandboxedReaders: several sandboxed children at once, answers in the files' order."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from transforms.intake.sandbox import Sandbox, SandboxedReaders


def behave(path: Path, tag: str = "") -> tuple[str, int]:
    """Read a file, misbehaving as its content says."""
    text = path.read_text()
    if text == "hang":
        time.sleep(60)
    if text == "crash":
        os.kill(os.getpid(), signal.SIGKILL)
    if text == "boom":
        raise ValueError("not a workbook")
    return f"{tag}{text}", os.getpid()


def files(tmp_path: Path, contents: list[str]) -> list[tuple[Path, dict[str, str]]]:
    jobs = []
    for i, text in enumerate(contents):
        path = tmp_path / f"{i:02d}.txt"
        path.write_text(text)
        jobs.append((path, {"tag": f"{i}:"}))
    return jobs


def test_answers_come_in_order_from_several_children(tmp_path: Path) -> None:
    jobs = files(tmp_path, [f"file {i}" for i in range(12)])
    seen: list[int] = []
    with SandboxedReaders(behave, Sandbox(timeout_s=30), processes=3) as readers:
        readers.start()
        answers = readers.read_all(jobs, seen.append)
    assert [r[0] for r, _ in answers] == [f"{i}:file {i}" for i in range(12)]
    assert all(detail == "" for _, detail in answers)
    assert len({pid for (_, pid), _ in answers}) == 3 and os.getpid() not in {
        pid for (_, pid), _ in answers
    }
    assert seen == list(range(1, 13))


def test_files_added_while_others_are_read_are_answered_in_order(tmp_path: Path) -> None:
    """Intake adds each file as it is archived and takes answers between additions; files
    added while archiving go to the first child only (the other core is the archiver's)."""
    from transforms.intake.sandbox import Reading

    jobs = files(tmp_path, [f"file {i}" for i in range(6)])
    seen: list[int] = []
    with SandboxedReaders(behave, Sandbox(timeout_s=30), processes=2) as readers:
        readers.start()
        reading = Reading(readers, seen.append)
        for path, kwargs in jobs[:4]:
            reading.add(path, kwargs)
            reading.pump(0.0, children=1)
        while reading.waiting:
            reading.pump(30.0, children=1)
        early = reading.take_landed()
        for path, kwargs in jobs[4:]:
            reading.add(path, kwargs)
        answers = reading.finish()
    assert sorted(early) == [0, 1, 2, 3] and sorted(reading.take_landed()) == [4, 5]
    assert [r[0] for r, _ in answers] == [f"{i}:file {i}" for i in range(6)]
    assert len({pid for (_, pid), _ in answers[:4]}) == 1  # one child while archiving
    assert seen == list(range(1, 7))


def test_a_file_that_hangs_or_crashes_costs_only_that_file(tmp_path: Path) -> None:
    jobs = files(tmp_path, ["a", "hang", "b", "crash", "c", "boom", "d"])
    with SandboxedReaders(behave, Sandbox(timeout_s=1.0, attempts=2), processes=2) as readers:
        t0 = time.monotonic()
        answers = readers.read_all(jobs)
    assert time.monotonic() - t0 < 20  # two tries of the hanging file, not 60 s each
    results = [r[0] if r else None for r, _ in answers]
    assert results == ["0:a", None, "2:b", None, "4:c", None, "6:d"]
    details = [d for _, d in answers]
    assert details[1] == "reading it took longer than 1 seconds"
    assert details[3].startswith("reading it needed more memory") or "crashed" in details[3]
    assert details[5] == "the reader failed (ValueError)"


def test_a_child_forked_again_waits_for_the_callers_thread_first(tmp_path: Path) -> None:
    jobs = files(tmp_path, ["a", "crash", "b"])
    waited: list[str] = []
    with SandboxedReaders(behave, Sandbox(timeout_s=30, attempts=2), processes=1) as readers:
        readers.start(before_fork=lambda: waited.append("joined"))
        assert waited == []  # the first fork happens before the caller starts its thread
        answers = readers.read_all(jobs)
    assert [r[0] if r else None for r, _ in answers] == ["0:a", None, "2:b"]
    assert len(waited) == 2  # the crashing file's second try, then the file after it


def started_at(path: Path) -> float:
    """When the child began reading this file (the clock is the machine's, in any process)."""
    began = time.monotonic()
    time.sleep(0.05)
    return began


def test_a_child_starts_its_next_file_while_this_process_is_busy(tmp_path: Path) -> None:
    """Each child holds its next file already, so a parent slow to take an answer (busy
    importing GX, say) does not leave the child idle."""
    jobs = files(tmp_path, ["a", "b", "c"])
    taken: list[float] = []

    def slow_parent(n: int) -> None:
        time.sleep(0.3)
        taken.append(time.monotonic())

    with SandboxedReaders(started_at, Sandbox(timeout_s=30), processes=1) as readers:
        answers = readers.read_all([(p, {}) for p, _ in jobs], slow_parent)
    began = [r for r, _ in answers]
    assert began[1] < taken[0] and began[2] < taken[1]  # not waiting for the parent


def test_queued_files_are_dealt_in_turn_up_to_the_limit_per_child() -> None:
    import collections

    from transforms.intake import sandbox

    class Child:
        def __init__(self) -> None:
            self.sent: list[Path] = []

        def send(self, path: Path, kwargs: dict[str, str]) -> None:
            self.sent.append(path)

    flights = [sandbox._Flight(Child()) for _ in range(3)]  # type: ignore[arg-type]
    jobs = [(Path(f"{i}.xlsx"), {}) for i in range(sandbox.AHEAD * 3 + 2)]
    queue = collections.deque((i, 1) for i in range(len(jobs)))
    sandbox._deal(flights, queue, jobs)
    # in turn: child k gets files k, k+3, k+6, ... and no child more than AHEAD
    assert [[i for i, _ in f.jobs] for f in flights] == [
        list(range(k, sandbox.AHEAD * 3, 3)) for k in range(3)
    ]
    assert [i for i, _ in queue] == [sandbox.AHEAD * 3, sandbox.AHEAD * 3 + 1]  # left queued
    assert [f.child.sent for f in flights][0][:2] == [Path("0.xlsx"), Path("3.xlsx")]
