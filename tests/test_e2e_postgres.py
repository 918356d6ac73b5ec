"""The sample filed into PostgreSQL gives the same store and figures as SQLite.

The same intake, store and measure code runs on both back ends (SQLAlchemy Core); this
files the whole sample into a private PostgreSQL schema and compares every figure and every
submission status with the SQLite run of the session fixture.
"""

from __future__ import annotations

import datetime as dt
import os

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.pg import private_schema_engine
from transforms.intake.filing import run_intake
from transforms.measures.targets import measures_table
from transforms.sample.replay import replay
from transforms.spec import default_spec
from transforms.store import ledger
from transforms.store.accepted import accepted_data

PG_URL = os.environ.get("DATASUMMARY_TEST_PG_URL")
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.postgres,
    pytest.mark.skipif(not PG_URL, reason="DATASUMMARY_TEST_PG_URL not set"),
]
Q = dt.date(2022, 9, 30)


@pytest.fixture
def pg_engine():
    with private_schema_engine(PG_URL) as engine:
        yield engine


def _figures(engine) -> pd.DataFrame:
    spec = default_spec()
    with engine.connect() as conn:
        frame = measures_table(accepted_data(conn), spec, Q, spec.plan.first_quarter)
    return frame.iloc[:, :16].reset_index(drop=True)


def _statuses(engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(
            conn.execute(
                sa.select(ledger.files.c.original_name, ledger.submissions.c.status).join(
                    ledger.submissions, ledger.submissions.c.sha256 == ledger.files.c.sha256
                )
            ).all()
        )


def test_postgres_store_gives_the_same_statuses_and_figures(sample_store, pg_engine, tmp_path):
    inbox = tmp_path / "inbox"
    replay(
        sample_store["sample"],
        inbox,
        lambda now: run_intake(inbox, tmp_path / "output", pg_engine, now=now, stable_wait=0.0),
    )
    assert _statuses(pg_engine) == _statuses(sample_store["engine"])
    pd.testing.assert_frame_equal(
        _figures(pg_engine), _figures(sample_store["engine"]), check_dtype=False
    )
