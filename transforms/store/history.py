"""History of computed figures per run and of what each issued report showed.

A report is *issued* when approved; a workbook accepted afterwards for that quarter is a
revision, and the next run compares its figures with what was issued.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from transforms.store.db import metadata

issued_reports = sa.Table(
    "issued_reports",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("quarter_end", sa.Date, nullable=False, index=True),
    sa.Column("version", sa.String(16), nullable=False),
    sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("approved_by", sa.Text, nullable=True),
    sa.Column("comment", sa.Text, nullable=True),
    sa.Column("run_id", sa.String(64), nullable=True),
)


def issued_quarters(conn: sa.Connection) -> set[dt.date]:
    """Quarters whose report has been issued (approved) at least once."""
    rows = conn.execute(sa.select(issued_reports.c.quarter_end).distinct()).scalars()
    return set(rows)
