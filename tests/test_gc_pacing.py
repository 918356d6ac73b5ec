"""The collector's pacing during intake: raised while inside, put back after."""

from __future__ import annotations

import gc
import threading

import pytest

from transforms.gc_pacing import YOUNG_PASS_EVERY, fewer_collections


@pytest.fixture(autouse=True)
def _default_threshold():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_young_passes_are_rarer_inside_and_as_before_after():
    with fewer_collections():
        assert gc.get_threshold() == (YOUNG_PASS_EVERY, 10, 10)
    assert gc.get_threshold() == (700, 10, 10)


def test_the_threshold_is_put_back_when_the_block_fails():
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("boom")
    assert gc.get_threshold() == (700, 10, 10)


def test_a_collector_switched_off_stays_off_and_a_higher_threshold_is_kept():
    gc.set_threshold(0, 10, 10)
    with fewer_collections():
        assert gc.get_threshold()[0] == 0
    gc.set_threshold(90_000, 5, 5)
    with fewer_collections():
        assert gc.get_threshold() == (90_000, 5, 5)
    assert gc.get_threshold() == (90_000, 5, 5)


def test_the_last_to_leave_restores_when_threads_overlap():
    """Two intakes in threads of one worker: the first to leave must not restore early."""
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, tuple[int, int, int]] = {}

    def first() -> None:
        with fewer_collections():
            first_in.set()
            second_in.wait(10)
        first_out.set()

    def second() -> None:
        first_in.wait(10)
        with fewer_collections():
            second_in.set()
            first_out.wait(10)
            seen["second, after the first left"] = gc.get_threshold()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert seen["second, after the first left"] == (YOUNG_PASS_EVERY, 10, 10)
    assert gc.get_threshold() == (700, 10, 10)


def test_intake_runs_with_rarer_young_passes(tmp_path):
    """`run_intakes` is wrapped: the threshold it runs under, seen through its progress."""
    from transforms.intake.filing import IntakeFolder, run_intakes
    from transforms.store.db import make_engine, sqlite_url

    inbox, output = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    engine = make_engine(sqlite_url(output))
    seen: list[int] = []
    try:
        run_intakes(
            [IntakeFolder(inbox, output, engine)],
            stable_wait=0.0,
            progress=lambda *_: seen.append(gc.get_threshold()[0]),
        )
    finally:
        engine.dispose()
    assert seen and set(seen) == {YOUNG_PASS_EVERY}
    assert gc.get_threshold() == (700, 10, 10)
