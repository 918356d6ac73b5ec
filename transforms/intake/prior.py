"""Prior data for the cross-quarter checks: last quarter's return in force, per lead.

One class answers for a batch of any size, reading the store once per batch and seeing the
files checked earlier in the same batch as if they had been filed already.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

import sqlalchemy as sa

from transforms.findings import IN_FORCE, ParsedReturn
from transforms.quarters import previous_quarter
from transforms.store import accepted as accepted_store
from transforms.store import ledger


class PriorData(Protocol):
    """What the cross-quarter checks need from earlier accepted returns."""

    def previous_item(
        self, submitter: str, sheet: str, item: str, quarter_end: dt.date
    ) -> int | None: ...

    def previous_progress(self, submitter: str, quarter_end: dt.date) -> dict[str, str]: ...


class BatchPriorData:
    """Last quarter's in-force return, from the store and the files checked earlier in a batch.

    The one `PriorData` intake uses, for a batch of any size (one file is a batch of one).
    Intake checks pending files in batches (one GX run per sheet type) but must give each
    file the answer it would get if every earlier file had been filed first. `add` is called
    as each file's check completes; an in-batch return in force wins over the store's when it
    is later in intake order (a later in-force return supersedes an earlier one).

    `quarter_end` in the questions is the quarter of the workbook being checked; the answer
    is for the quarter before. The store does not change while a batch is checked (its files
    are filed afterwards), so the store's side is read once per sheet item, once for
    progress and once for the returns in force, not once per file: per-file queries were a
    large part of checking.
    """

    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn
        self._batch: dict[tuple[str, dt.date], tuple[int, ParsedReturn]] = {}
        self._store_seqs: dict[tuple[str, dt.date], list[int]] | None = None
        self._items: dict[tuple[str, str], dict[tuple[str, dt.date], Any]] = {}
        self._progress: dict[tuple[str, dt.date], dict[str, str]] | None = None

    def add(self, seq: int, parsed: ParsedReturn) -> None:
        """Record a checked workbook; only one that will be in force can be prior data."""
        cover = parsed.cover
        if parsed.status in IN_FORCE and cover.submitter and cover.quarter_end:
            key = (cover.submitter, cover.quarter_end)
            if key not in self._batch or self._batch[key][0] < seq:
                self._batch[key] = (seq, parsed)

    def _in_batch(self, submitter: str, quarter_end: dt.date) -> ParsedReturn | None:
        key = (submitter, previous_quarter(quarter_end))
        found = self._batch.get(key)
        if found is None:
            return None
        seq, parsed = found
        if self._store_seqs is None:  # the store's returns in force, read once
            self._store_seqs = ledger.return_seqs(self._conn, IN_FORCE)
        return None if any(s > seq for s in self._store_seqs.get(key, ())) else parsed

    def _store_item(
        self, submitter: str, sheet: str, item: str, quarter_end: dt.date
    ) -> int | None:
        """The item's value in the store's in-force return; one query per (sheet, item)."""
        table = accepted_store.tables().get(sheet)
        if table is None or "item" not in table.c:
            return None
        if (sheet, item) not in self._items:
            subs = ledger.submissions
            query = (
                sa.select(table.c.submitter, table.c.quarter_end, table.c.value)
                .join(subs, subs.c.sha256 == table.c.sha256)
                .where(subs.c.status.in_(IN_FORCE), table.c.item == item)
                .order_by(subs.c.seq.desc())
            )
            latest: dict[tuple[str, dt.date], Any] = {}
            for submitter_, quarter, value in self._conn.execute(query):
                latest.setdefault((submitter_, quarter), value)
            self._items[(sheet, item)] = latest
        value = self._items[(sheet, item)].get((submitter, previous_quarter(quarter_end)))
        return None if value is None else int(value)

    def _store_progress(self, submitter: str, quarter_end: dt.date) -> dict[str, str]:
        """action_id -> status in the store's in-force Progress return; one query in all."""
        table = accepted_store.tables().get("Progress")
        if table is None:
            return {}
        if self._progress is None:
            subs = ledger.submissions
            query = (
                sa.select(table.c.submitter, table.c.quarter_end, table.c.action_id, table.c.status)
                .join(subs, subs.c.sha256 == table.c.sha256)
                .where(subs.c.status.in_(IN_FORCE))
                .order_by(table.c.excel_row)
            )
            self._progress = {}
            for submitter_, quarter, action, status in self._conn.execute(query):
                if action is not None and status is not None:
                    self._progress.setdefault((submitter_, quarter), {})[action] = status
        return dict(self._progress.get((submitter, previous_quarter(quarter_end)), {}))

    def previous_item(
        self, submitter: str, sheet: str, item: str, quarter_end: dt.date
    ) -> int | None:
        """The item's value last quarter; None when no return in force or no value given."""
        parsed = self._in_batch(submitter, quarter_end)
        if parsed is None:
            return self._store_item(submitter, sheet, item, quarter_end)
        frame = parsed.sheets.get(sheet)
        if frame is None or "item" not in frame.columns:
            return None
        items = frame["item"].tolist()
        if item not in items:
            return None
        value = frame["value"].iloc[items.index(item)]  # the first row of that item
        return None if _missing(value) else int(value)

    def previous_progress(self, submitter: str, quarter_end: dt.date) -> dict[str, str]:
        """action_id -> status in the lead's in-force Progress return of last quarter."""
        parsed = self._in_batch(submitter, quarter_end)
        if parsed is None:
            return self._store_progress(submitter, quarter_end)
        frame = parsed.sheets.get("Progress")
        if frame is None:
            return {}
        rows = sorted(
            zip(
                frame["excel_row"].tolist(),
                frame["action_id"].tolist(),
                frame["status"].tolist(),
                strict=True,
            ),
            key=lambda r: r[0],
        )
        return {a: s for _, a, s in rows if not _missing(a) and not _missing(s)}


def _missing(value: Any) -> bool:
    import pandas as pd  # only checking needs it; a re-run with nothing new must not

    if value is None or value is pd.NA:  # pd.NA first: comparing it gives NA, not a bool
        return True
    return not isinstance(value, str) and bool(value != value)


def store_prior_data(conn: sa.Connection) -> BatchPriorData:
    """The PriorData the checker uses during intake, backed by the store (an empty batch)."""
    return BatchPriorData(conn)
