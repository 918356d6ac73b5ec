"""Reading workbooks in sandboxed children, from the moment each is archived.

Intake archives a batch's new files one by one, then checks them. Making each copy is the
kernel's work (a new folder and a new file, about a millisecond each on some disks), so
reading used to wait on one busy core while the other was idle. `SandboxedReading` starts the
children first: each file is read as soon as it is offered (archived), and what was read is
kept, by archived path and name, until the batch's check takes it. A file not offered is read
when it is asked for. Either way it is the same read of the same archived copy, with the same
limits, so the answer is the same.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import math
import threading
from collections.abc import Callable
from pathlib import Path

from transforms.catalogue import make_finding
from transforms.findings import ParsedReturn
from transforms.intake.parse import Parsed
from transforms.intake.preflight import Limits, preflight
from transforms.intake.sandbox import Reading, Sandbox, SandboxedReaders
from transforms.spec import Spec

Item = tuple[Path, str | None]  # an archived copy and the name its lead gave it


def read_one(path: Path, name: str | None, limits: Limits, read: Callable[..., Parsed]) -> Parsed:
    """Pre-flight, then parse (with `read`) unless pre-flight found an error."""
    file_name = name or path.name
    findings = preflight(path, original_name=name, limits=limits)
    if any(f.severity == "error" for f in findings):
        return Parsed(result=ParsedReturn(file_name=file_name, findings=findings))
    parsed = read(path, original_name=name)
    parsed.result.findings[:0] = findings
    return parsed


def unread(path: Path, name: str | None, limits: Limits, detail: str) -> Parsed:
    """A workbook no sandboxed child could read: its pre-flight findings (taken here, as
    they are bounded) and a finding saying why reading failed."""
    code = "P-UNREADABLE" if detail.startswith("the reader") else "P-TOO-LARGE"
    findings = preflight(path, original_name=name, limits=limits)
    if not any(f.severity == "error" for f in findings):
        findings.append(make_finding(code, detail=detail))
    return Parsed(result=ParsedReturn(file_name=name or path.name, findings=findings))


class SandboxedReading:
    """Children reading workbooks for one check configuration (spec, today, limits, sandbox).

    Use as a context manager: the children are forked on entry (before any thread of this
    process starts) and stopped on exit. `warm`, if given, runs on a thread from the first
    `parsed` call, while the children read; a child restarted after a crash is forked only
    once that thread has finished.
    """

    def __init__(
        self,
        config: tuple[Spec, dt.date, Limits, Sandbox],
        read: Callable[..., Parsed],
        processes: int,
        *,
        warm: Callable[[], object] | None = None,
        limit: int | None = None,
    ) -> None:
        """`read(path, original_name=…)` parses one workbook as `config` (spec, today,
        limits, sandbox) says; it runs after pre-flight, in the children."""
        self.config = config
        _, _, self.limits, sandbox = config
        whole = functools.partial(read_one, limits=self.limits, read=read)
        self.readers = SandboxedReaders(whole, sandbox, processes)
        self.reading = Reading(self.readers)
        self.offered: dict[Item, int] = {}
        self.limit = limit  # files read ahead and not yet taken (a batch's worth)
        self._warm = warm
        self._warming: threading.Thread | None = None

    def __enter__(self) -> SandboxedReading:
        self.readers.start(before_fork=self._warmed)
        return self

    def __exit__(self, *exc: object) -> None:
        self.readers.__exit__(None, None, None)
        self._warmed()

    def suits(self, spec: Spec, today: dt.date, limits: Limits, sandbox: Sandbox) -> bool:
        """Whether this reading parses as a check with these settings would."""
        mine = self.config
        return mine[0] is spec and mine[1:] == (today, limits, sandbox)

    def offer(self, path: Path, name: str | None) -> None:
        """Start reading an archived copy now (up to `limit` not yet taken); take answers.

        While files are offered this process is busy archiving the next ones, so one core is
        left to it: files go to all children but one.
        """
        key = (Path(path), name)
        if key not in self.offered and (self.limit is None or len(self.offered) < self.limit):
            self.offered[key] = self.reading.add(key[0], {"name": name})
        self.reading.pump(0.0, children=max(len(self.readers.children) - 1, 1))

    def parsed(self, items: list[Item], done: Callable[[int], None]) -> list[Parsed]:
        """Each item parsed, in order: what was offered is taken, the rest is read now.

        `done(n)` is told how many of `items` are read as they come. The warming thread has
        finished when this returns.
        """
        self._start_warming()
        wanted = [self._index(item) for item in items]
        self.reading.take_landed()  # those already answered are counted below
        answers = self.reading.answers
        left = sum(answers[i] is None for i in wanted)
        done(len(wanted) - left)
        mine = set(wanted)
        while left and self.reading.waiting:
            self.reading.pump(math.inf)
            fresh = [i for i in self.reading.take_landed() if i in mine]
            if fresh:
                left -= len(fresh)
                done(len(wanted) - left)
        out: list[Parsed] = []
        for (path, name), i in zip(items, wanted, strict=True):
            answer, answers[i] = answers[i], None  # the caller keeps it from here, not both
            if answer is None or answer[1]:
                detail = answer[1] if answer is not None else "the reader gave no answer"
                out.append(unread(path, name, self.limits, detail))
            else:
                out.append(answer[0])
        self._warmed()  # what it prepares is what the caller uses next, on this thread
        return out

    def _index(self, item: Item) -> int:
        """The reading's index for an item: the one offered (taken once), else a new read."""
        key = (Path(item[0]), item[1])
        i = self.offered.pop(key, None)
        return i if i is not None else self.reading.add(key[0], {"name": key[1]})

    def _start_warming(self) -> None:
        if self._warm is not None and self._warming is None:
            warming = threading.Thread(target=self._quietly_warm, name="gx-warming", daemon=True)
            self._warming = warming
            warming.start()

    def _quietly_warm(self) -> None:
        with contextlib.suppress(Exception):  # what it prepares is made again, saying why
            if self._warm is not None:
                self._warm()

    def _warmed(self) -> None:
        """Wait for the warming thread, if one is running (before a fork, and at the end)."""
        if self._warming is not None:
            self._warming.join()
