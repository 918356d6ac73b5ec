"""Shared wiring for the flows: the store engine and JSON-safe artifact rows."""

from __future__ import annotations

import json

import pandas as pd
import sqlalchemy as sa

from datasummary.settings import Settings


def engine_for(settings: Settings) -> sa.Engine:
    """The store's engine, with every table created (idempotent)."""
    from transforms.store.db import create_all, make_engine

    engine = make_engine(settings.database_url)
    create_all(engine)
    return engine


def table_rows(frame: pd.DataFrame) -> list[dict]:
    """Rows a Prefect table artifact accepts (JSON-safe, NaN as null)."""
    return json.loads(frame.to_json(orient="records", date_format="iso"))
