"""forked_map: the same answer as a plain loop, whatever the children do."""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path

import pytest

from transforms.forked import Ahead, available_cores, forked_map
from transforms.forked_stream import Stream


def square_with_pid(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


def square_with_pid_slowly(x: int) -> tuple[int, int]:
    time.sleep(0.02)  # long enough that every process gets items from the queue
    return square_with_pid(x)


def test_the_answer_is_the_plain_loops_in_order_and_children_did_part_of_it() -> None:
    items = list(range(23))
    got = forked_map(square_with_pid_slowly, items, processes=3)
    assert [v for v, _ in got] == [x * x for x in items]
    assert len({pid for _, pid in got}) == 3  # this process and two children
    assert {pid for _, pid in got} - {os.getpid()}


def test_one_process_or_one_item_forks_nothing() -> None:
    assert {pid for _, pid in forked_map(square_with_pid, [1, 2, 3], processes=1)} == {os.getpid()}
    assert forked_map(square_with_pid, [4], processes=8) == [(16, os.getpid())]
    assert forked_map(square_with_pid, [], processes=8) == []


PARENT = os.getpid()


def dies_in_a_child(x: int) -> int:
    if os.getpid() != PARENT and x == 5:
        os.kill(os.getpid(), signal.SIGKILL)  # the child dies: its whole share is redone here
    return x + 100


def unpicklable_in_a_child(x: int) -> object:
    if os.getpid() != PARENT:
        return lambda: x  # cannot be sent back
    return x


def test_a_share_a_child_does_not_deliver_is_computed_here() -> None:
    assert forked_map(dies_in_a_child, list(range(10)), processes=2) == list(range(100, 110))
    assert forked_map(unpicklable_in_a_child, list(range(6)), processes=2) == list(range(6))


def boom(x: int) -> int:
    raise ValueError(f"bad {x}")


def test_an_error_in_the_work_itself_is_raised_as_the_loop_would() -> None:
    with pytest.raises(ValueError, match="bad"):
        forked_map(boom, [1, 2, 3, 4], processes=2)


def test_available_cores_is_at_least_one() -> None:
    assert available_cores() >= 1


def test_an_operator_can_cap_the_cores_a_run_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATASUMMARY_PROCESSES", "1")
    assert available_cores() == 1
    assert {pid for _, pid in forked_map(square_with_pid, [1, 2, 3])} == {os.getpid()}
    monkeypatch.setenv("DATASUMMARY_PROCESSES", "not a number")
    assert available_cores() >= 1


def takes_long_if_first(x: int) -> tuple[int, int]:
    time.sleep(0.5 if x == 0 else 0.02)
    return x, os.getpid()


def test_items_go_to_whichever_process_is_free() -> None:
    """One long item first: the other process takes the short ones meanwhile, instead of
    the long one's process also owing a fixed half of them."""
    got = forked_map(takes_long_if_first, list(range(11)), processes=2)
    assert [x for x, _ in got] == list(range(11))
    long_one = got[0][1]
    assert [pid for _, pid in got[1:]].count(long_one) <= 2


def test_many_more_items_than_queue_slots_are_taken_in_chunks() -> None:
    items = list(range(20_000))
    assert [v for v, _ in forked_map(square_with_pid, items, processes=2)] == [x * x for x in items]


def prepared_pid(path: str) -> None:
    """`prepare` for Ahead: leaves this process's pid where the test can read it."""
    Path(f"{path}.part").write_text(str(os.getpid()), encoding="utf-8")
    os.replace(f"{path}.part", path)


def test_ahead_prepares_in_a_child_before_the_input_exists_then_answers_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATASUMMARY_PROCESSES", "2")
    marker = str(tmp_path / "prepared")
    with Ahead(lambda: prepared_pid(marker), square_with_pid) as ahead:
        deadline = time.monotonic() + 10
        while not os.path.exists(marker) and time.monotonic() < deadline:
            time.sleep(0.01)  # the child prepares before anything is sent
        prepared_in = int(Path(marker).read_text(encoding="utf-8"))
        ahead.send(7)
        value, pid = ahead.result()
    assert value == 49
    assert pid == prepared_in != os.getpid()


def test_ahead_computes_here_what_its_child_does_not_deliver(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATASUMMARY_PROCESSES", "2")
    for fn, x, want in ((dies_in_a_child, 5, 105), (unpicklable_in_a_child, 3, 3)):
        with Ahead(lambda: None, fn) as ahead:
            ahead.send(x)
            assert ahead.result() == want
    with Ahead(lambda: None, square_with_pid) as ahead:
        ahead.send(lambda: 2)  # type: ignore[arg-type]  # an input that will not pickle
        with pytest.raises(TypeError):
            ahead.result()  # the child got nothing; here the work itself fails, as it would


def test_ahead_runs_here_on_one_core_and_its_errors_are_the_works(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATASUMMARY_PROCESSES", "1")
    with Ahead(lambda: None, square_with_pid) as ahead:
        ahead.send(3)
        assert ahead.result() == (9, os.getpid())
    monkeypatch.setenv("DATASUMMARY_PROCESSES", "2")
    with Ahead(lambda: None, boom) as ahead:
        ahead.send(4)
        with pytest.raises(ValueError, match="bad 4"):
            ahead.result()


def test_an_ahead_never_sent_anything_leaves_no_child(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATASUMMARY_PROCESSES", "2")
    pid = None
    with (
        pytest.raises(RuntimeError, match="measures failed"),
        Ahead(lambda: time.sleep(30), square_with_pid) as ahead,
    ):
        pid = ahead._child[0] if ahead._child else None
        raise RuntimeError("measures failed")
    assert pid is not None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # killed and reaped on leaving the block


def logs_where_it_runs(x: int) -> int:
    """Work that logs a warning naming the process it ran in."""
    extra = {"ran_in": os.getpid()}
    logging.getLogger("ds_test.work").warning("item %d of %s", x, "work", extra=extra)
    return x


def test_a_childs_log_records_are_handled_in_this_process_as_if_logged_here(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATASUMMARY_PROCESSES", "2")
    with caplog.at_level(logging.INFO):
        forked_map(logs_where_it_runs, list(range(6)), processes=2)
        stream = Stream(logs_where_it_runs)
        stream.take(stream.send([10, 11]))
        stream.close()
        with Ahead(lambda: None, logs_where_it_runs) as ahead:
            ahead.send(20)
            ahead.result()
    mine = [r for r in caplog.records if r.name == "ds_test.work"]
    assert sorted(r.getMessage() for r in mine) == sorted(
        f"item {x} of work" for x in [*range(6), 10, 11, 20]
    )
    from_children = [r for r in mine if getattr(r, "ran_in", None) != os.getpid()]
    assert from_children  # made in a child, handled here
    assert all(r.levelno == logging.WARNING and r.args is None for r in from_children)


def test_ahead_that_cannot_fork_does_the_work_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATASUMMARY_PROCESSES", "2")

    def no_fork() -> int:
        raise BlockingIOError("Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    with Ahead(lambda: None, square_with_pid) as ahead:
        ahead.send(5)
        assert ahead.result() == (25, os.getpid())


# ------------------------------------------------------------------ Stream
@pytest.fixture
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two available cores, so that a stream forks its child."""
    monkeypatch.setenv("DATASUMMARY_PROCESSES", "2")


@pytest.mark.usefixtures("two_cores")
def test_a_stream_answers_each_batch_in_order_from_one_child() -> None:
    stream = Stream(square_with_pid)
    tickets = [stream.send([1, 2, 3]), stream.send([]), stream.send([4])]
    got = [stream.take(t) for t in tickets]
    stream.close()
    assert [[v for v, _ in batch] for batch in got] == [[1, 4, 9], [], [16]]
    pids = {pid for batch in got for _, pid in batch}
    assert len(pids) == 1 and os.getpid() not in pids  # one child did every batch


def sized(n: int) -> bytes:
    return b"x" * n


@pytest.mark.usefixtures("two_cores")
def test_batches_and_answers_larger_than_a_pipe_do_not_hold_either_side_up() -> None:
    """Batches are sent while answers are still unread: neither pipe may fill and wait."""
    stream = Stream(sized)
    tickets = [stream.send([300_000 + i] * 3) for i in range(6)]
    assert [[len(b) for b in stream.take(t)] for t in tickets] == [
        [300_000 + i] * 3 for i in range(6)
    ]
    stream.close()


@pytest.mark.usefixtures("two_cores")
def test_ready_says_whether_an_answer_has_come_without_waiting() -> None:
    stream = Stream(takes_long_if_first)
    ticket = stream.send([0])
    assert not stream.ready(ticket)  # the child sleeps 0.5 s
    deadline = time.monotonic() + 10
    while not stream.ready(ticket) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stream.take(ticket)[0][0] == 0
    stream.close()


@pytest.mark.usefixtures("two_cores")
def test_what_a_streams_child_does_not_deliver_is_computed_here() -> None:
    stream = Stream(dies_in_a_child)
    tickets = [stream.send([1, 2]), stream.send([5, 6]), stream.send([7])]
    assert [stream.take(t) for t in tickets] == [[101, 102], [105, 106], [107]]
    stream.close()
    stream = Stream(unpicklable_in_a_child)
    assert stream.take(stream.send([1, 2])) == [1, 2]
    stream.close()


def test_a_stream_runs_here_when_told_not_to_fork_or_on_one_core(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATASUMMARY_PROCESSES", "2")
    stream = Stream(square_with_pid, fork=False)
    assert {pid for _, pid in stream.take(stream.send([1, 2]))} == {os.getpid()}
    monkeypatch.setenv("DATASUMMARY_PROCESSES", "1")
    stream = Stream(square_with_pid)
    assert {pid for _, pid in stream.take(stream.send([1, 2]))} == {os.getpid()}


@pytest.mark.usefixtures("two_cores")
def test_closing_a_stream_with_kill_ends_its_child_at_once() -> None:
    stream = Stream(takes_long_if_first)
    stream.send([0, 0, 0, 0])  # two seconds of work
    started = time.monotonic()
    stream.close(kill=True)
    assert time.monotonic() - started < 0.4
