"""Run-time configuration: folders, database URL and the environment of Prefect and GX.

Everything has an embedded default (sample returns, local Prefect, SQLite under the output
folder) so the quick start needs no configuration; each default can be overridden by an
environment variable or a command-line option.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: Analytics and "phone home" off before Prefect or GX is imported anywhere.
QUIET_ENV = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "GX_ANALYTICS_ENABLED": "false",
    "PREFECT_UI_ENABLED": os.environ.get("PREFECT_UI_ENABLED", "true"),
    "PREFECT_LOGGING_LEVEL": os.environ.get("PREFECT_LOGGING_LEVEL", "WARNING"),
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
}


#: Prefect's logging settings (PREFECT_LOGGING_<path>): the flows' and tasks' own INFO messages
#: (what was filed, the draft, the decision and who took it) reach the run's logs in the UI;
#: the console handler stays at WARNING, so a command's output is what the user asked for.
RUN_LOG_ENV = {
    "PREFECT_LOGGING_LOGGERS_PREFECT_FLOW_RUNS_LEVEL": "INFO",
    "PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL": "INFO",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING",
}


def quiet_environment() -> None:
    """Set the no-analytics environment (without overriding what the operator set).

    GX's INFO chatter (temporary docs folders, progress) is turned down to warnings so a
    command's output is what the user asked for.
    """
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)
    run_log_levels()


def run_log_levels() -> None:
    """The one place log levels are set: INFO for Prefect run logs, WARNING for the rest.

    Through the environment (before Prefect configures logging, and inherited by the
    runner's subprocesses) and on the loggers themselves (when Prefect is already set up).
    Operators override any of it with the same PREFECT_LOGGING_* variables.
    """
    import logging

    for key, value in RUN_LOG_ENV.items():
        os.environ.setdefault(key, value)
    for name in ("prefect.flow_runs", "prefect.task_runs"):
        level = os.environ["PREFECT_LOGGING_LOGGERS_" + name.upper().replace(".", "_") + "_LEVEL"]
        logging.getLogger(name).setLevel(level)
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    from transforms.faults import quiet_operator_errors

    quiet_operator_errors()  # an operator fault is one line, not an engine traceback


@dataclass(frozen=True)
class Settings:
    """Where a run reads and writes."""

    inbox: Path
    output: Path
    db_url: str | None = None
    publish_dir: Path | None = None

    @property
    def database_url(self) -> str:
        """The store: DATASUMMARY_DB_URL, else SQLite under OUTPUT/state/."""
        from transforms.store.db import sqlite_url

        return self.db_url or os.environ.get("DATASUMMARY_DB_URL") or sqlite_url(self.output)

    def quarter_dir(self, quarter_end: object) -> Path:
        """OUTPUT/<quarter-end>/, where a quarterly run writes its documents."""
        return self.output / str(quarter_end)


def default_inbox() -> Path:
    """DATASUMMARY_INBOX, else ./inbox."""
    return Path(os.environ.get("DATASUMMARY_INBOX", "inbox"))


def default_output() -> Path:
    """DATASUMMARY_OUTPUT, else ./output."""
    return Path(os.environ.get("DATASUMMARY_OUTPUT", "output"))
