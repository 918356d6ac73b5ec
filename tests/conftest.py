"""Test set-up: a private Prefect home, analytics off, one session Prefect harness."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

_HOME = Path(tempfile.mkdtemp(prefix="datasummary-test-prefect-"))
os.environ.setdefault("PREFECT_HOME", str(_HOME))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect server and database for every flow test of the session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory):
    """The default sample partnership, generated and filed through the real intake.

    Deliveries are replayed in arrival order with intake's clock at each arrival, so
    statuses, lateness and superseding are what a real shared folder would give.
    """
    from transforms.intake.filing import run_intake
    from transforms.sample import generate_sample, load_truth
    from transforms.sample.replay import replay
    from transforms.store.db import create_all, make_engine, sqlite_url

    base = tmp_path_factory.mktemp("sample")
    sample = generate_sample(base / "sample")
    inbox, output = base / "inbox", base / "output"
    engine = make_engine(sqlite_url(output))
    create_all(engine)
    results = []
    last = replay(
        sample,
        inbox,
        lambda now: results.append(run_intake(inbox, output, engine, now=now, stable_wait=0.0)),
    )
    yield {
        "sample": sample,
        "truth": load_truth(base / "sample"),
        "engine": engine,
        "inbox": inbox,
        "output": output,
        "results": results,
        "now": last,
    }
    engine.dispose()


#: The quarter of the small store's returns (see `small_store_template`).
SMALL_QUARTER = "2020-09-30"


@pytest.fixture(scope="session")
def small_store_template(tmp_path_factory) -> Path:
    """An output folder with a store of three real returns for 2020-09-30, filed once per
    session through the real intake: CSW accepted on time, NHSG rejected (its CAMHS sheet is
    missing), CPC accepted two days after the 21 October deadline (late); the other six
    submitters missing. Tests copy it (`small_store`) rather than change it.
    """
    import datetime as dt

    from tests.returns_builder import valid_sheets, write_workbook
    from transforms.intake.filing import run_intake
    from transforms.store.db import create_all, make_engine, sqlite_url

    base = tmp_path_factory.mktemp("small-store")
    inbox, output = base / "inbox", base / "output"
    inbox.mkdir()
    engine = make_engine(sqlite_url(output))
    create_all(engine)
    nhsg = valid_sheets("NHSG")
    del nhsg["CAMHS"]
    write_workbook(valid_sheets("CSW"), inbox / "csw_q2.xlsx")
    write_workbook(nhsg, inbox / "nhsg_q2.xlsx")
    run_intake(inbox, output, engine, now=dt.datetime(2020, 10, 13, tzinfo=dt.UTC), stable_wait=0.0)
    write_workbook(valid_sheets("CPC"), inbox / "cpc_q2.xlsx")
    run_intake(inbox, output, engine, now=dt.datetime(2020, 10, 23, tzinfo=dt.UTC), stable_wait=0.0)
    engine.dispose()
    return output


@pytest.fixture
def small_store(small_store_template, tmp_path) -> Path:
    """A private copy of the small store: tmp_path/output (the store) and an empty inbox."""
    import shutil

    shutil.copytree(small_store_template, tmp_path / "output")
    (tmp_path / "inbox").mkdir(exist_ok=True)
    return tmp_path


class _SmtpInbox:
    """What the local SMTP server received: (recipients, parsed message) pairs."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        import email
        from email import policy

        self.messages.append(
            (
                list(envelope.rcpt_tos),
                email.message_from_bytes(envelope.content, policy=policy.default),
            )
        )
        return "250 OK"


@pytest.fixture
def smtp_server():
    """A local SMTP server on 127.0.0.1 and a free port: (port, inbox with .messages)."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = _SmtpInbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, handler
    controller.stop()
