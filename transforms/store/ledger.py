"""Ledger tables: every file received, what happened to it, and each submission's status.

The ledger is written before a file is parsed (received, archived) and survives any later
failure; it is the history behind returns.csv and the returns annex.
"""

from __future__ import annotations

import sqlalchemy as sa

from transforms.store.db import metadata

files = sa.Table(
    "ledger_files",
    metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("original_name", sa.Text, nullable=False),
    sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("mtime", sa.Float, nullable=True),
    sa.Column("archive_path", sa.Text, nullable=False),
    sa.Column("inbox", sa.Text, nullable=True),
)

events = sa.Table(
    "ledger_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sha256", sa.String(64), nullable=True, index=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("event", sa.String(40), nullable=False),
    sa.Column("detail", sa.Text, nullable=True),   # never child-level values
)

submissions = sa.Table(
    "submissions",
    metadata,
    sa.Column("sha256", sa.String(64), sa.ForeignKey("ledger_files.sha256"), primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False),            # intake order ("later")
    sa.Column("submitter", sa.String(16), nullable=True),
    sa.Column("quarter_end", sa.Date, nullable=True),
    sa.Column("date_completed", sa.Date, nullable=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("errors", sa.Integer, nullable=False),
    sa.Column("warnings", sa.Integer, nullable=False),
    sa.Column("late", sa.Boolean, nullable=False),
    sa.Column("revision", sa.Boolean, nullable=False),
    sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("superseded_by", sa.String(64), nullable=True),
    sa.Column("feedback_path", sa.Text, nullable=True),
)

findings = sa.Table(
    "findings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sha256", sa.String(64), sa.ForeignKey("ledger_files.sha256"), index=True),
    sa.Column("severity", sa.String(8), nullable=False),
    sa.Column("rule", sa.String(24), nullable=False),
    sa.Column("sheet", sa.Text, nullable=True),
    sa.Column("cell", sa.String(16), nullable=True),
    sa.Column("row", sa.Integer, nullable=True),
    sa.Column("column", sa.Text, nullable=True),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("expected", sa.Text, nullable=True),
    sa.Column("value", sa.Text, nullable=True),   # local store only; never logged
)
