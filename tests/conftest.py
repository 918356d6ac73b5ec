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
