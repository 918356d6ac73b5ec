"""A private PostgreSQL schema per test, so PostgreSQL tests never share or drop tables."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from transforms.store.db import create_all, make_engine

PG_URL = os.environ.get("DATASUMMARY_TEST_PG_URL")


@contextmanager
def private_schema_engine(url: str | None = None) -> Iterator[sa.Engine]:
    """An engine whose tables live in a fresh schema, created and dropped around the test."""
    base = make_engine(url or PG_URL)
    schema = "t_" + uuid.uuid4().hex[:12]
    with base.begin() as c:
        c.execute(sa.text(f"CREATE SCHEMA {schema}"))
    engine = base.execution_options(schema_translate_map={None: schema})
    create_all(engine)
    try:
        yield engine
    finally:
        with base.begin() as c:
            c.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        base.dispose()
