"""Faults an operator must put right: said in one line, not a traceback.

A run that cannot do its job because of its surroundings (the inbox's `feedback/` is not a
folder, the store folder is read-only, the database is unreachable) raises `OperatorError`
with a message that says what failed, where and what to do. The CLI prints that line and
exits non-zero; a Prefect flow fails with it as its message. Never put a password in one.
"""

from __future__ import annotations

import logging


class OperatorError(RuntimeError):
    """Something about the environment, not the data, stopped the run (one clear line)."""


class OneLineForOperatorErrors(logging.Filter):
    """Drop the traceback from a log record about an `OperatorError`: its message says it all.

    Installed on Prefect's flow- and task-run loggers by the CLI, which otherwise print a
    forty-line engine traceback above the one line that matters.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, OperatorError):
            record.exc_info = None
            record.exc_text = None
        return True


def quiet_operator_errors(
    loggers: tuple[str, ...] = ("prefect.flow_runs", "prefect.task_runs"),
) -> None:
    """Install `OneLineForOperatorErrors` on `loggers` (once each)."""
    for name in loggers:
        logger = logging.getLogger(name)
        if not any(isinstance(f, OneLineForOperatorErrors) for f in logger.filters):
            logger.addFilter(OneLineForOperatorErrors())
