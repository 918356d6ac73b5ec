"""The inbox watcher: intake at start, then as soon as a workbook lands."""

from __future__ import annotations

import threading
import time

from flows.watch import needs_retry, watch_inbox
from transforms.intake.arrival import Skipped
from transforms.intake.filing import IntakeResult


def test_a_file_still_arriving_makes_the_watcher_look_again():
    assert needs_retry(
        IntakeResult(skipped=[Skipped("a.xlsx", "still being written; left for the next intake")])
    )
    assert needs_retry(
        IntakeResult(
            skipped=[Skipped("b.xlsx", "arrived during this intake; left for the next one")]
        )
    )
    assert not needs_retry(
        IntakeResult(skipped=[Skipped("c.xlsx", "not a regular file (link or device)")])
    )
    assert not needs_retry(IntakeResult())


def test_dropped_workbook_gets_feedback_without_waiting_for_a_schedule(tmp_path):
    inbox, output = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    results, stop = [], threading.Event()
    thread = threading.Thread(
        target=watch_inbox,
        args=(inbox, output),
        kwargs=dict(stable_wait=0.2, retry_s=0.5, stop_event=stop, on_result=results.append),
        daemon=True,
    )
    thread.start()
    deadline = time.monotonic() + 20
    while not results and time.monotonic() < deadline:
        time.sleep(0.05)
    assert results and results[0].counts["processed"] == 0  # the start-up intake
    (inbox / "~$lock.xlsx").write_bytes(b"lock")  # ignored, never filed
    (inbox / "broken.xlsx").write_bytes(b"not a workbook at all")
    feedback = inbox / "feedback" / "broken.xlsx.feedback.txt"
    while not feedback.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(timeout=10)
    assert feedback.exists(), "no feedback within 20 s of the drop"
    assert "rejected" in feedback.read_text()
    filed = [p for r in results for p in r.processed]
    assert [p.original_name for p in filed] == ["broken.xlsx"]
    assert not thread.is_alive()
