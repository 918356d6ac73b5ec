"""What the command line shows on the console: this project's messages, the libraries' on request.

Without --verbose only this project's warnings and errors reach stderr; --verbose adds the
libraries' messages, --debug debug messages and tracebacks. Only the console is filtered:
what Prefect sends to its API is left alone.
"""

from __future__ import annotations

import logging
import os
import sys

#: Loggers of this project; every other logger is a library's.
OWN_LOGGERS = ("transforms", "flows", "datasummary")


class ConsoleLogHandler(logging.StreamHandler):
    """The console's log handler: stderr as it is at each message (a live display swaps it).

    Installed on the root logger before Prefect is imported, so Prefect keeps it and adds
    no console handler of its own (prefect.logging.configuration.setup_logging).
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self):  # noqa: D102
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


class OwnMessagesOnly(logging.Filter):
    """Without --verbose the console shows this project's messages, not the libraries'."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name.startswith(OWN_LOGGERS)


class ConsoleFormatter(logging.Formatter):
    """A message per line; the traceback only when asked for (--debug)."""

    def __init__(self, fmt: str, tracebacks: bool) -> None:
        super().__init__(fmt, "%H:%M:%S")
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        if self.tracebacks or not (record.exc_info or record.exc_text or record.stack_info):
            return super().format(record)
        bare = {**record.__dict__, "exc_info": None, "exc_text": None, "stack_info": None}
        return super().format(logging.makeLogRecord(bare))


def console_logging(verbose: bool, debug: bool) -> None:
    """What reaches the console: by default only this project's warnings and errors.

    Library chatter (GX's "Created temporary directory", Prefect's engine messages,
    SQLAlchemy) is hidden unless --verbose; --debug adds debug messages and tracebacks.
    Only the console is filtered: what Prefect sends to its API (the run logs in the UI)
    is decided by the loggers' levels and Prefect's own handlers, which this leaves alone.
    """
    verbose = verbose or debug
    if verbose:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    else:  # Prefect's machinery logs to its own stderr handler, not through the root logger
        os.environ.setdefault("PREFECT_INTERNAL_LOGGING_LEVEL", "CRITICAL")
    root = logging.getLogger()
    for h in list(root.handlers):
        if type(h).__name__ in ("PrefectConsoleHandler", "ConsoleLogHandler"):
            root.removeHandler(h)
    handler = ConsoleLogHandler()
    handler.setLevel(logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING)
    handler.setFormatter(
        ConsoleFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", debug)
        if verbose
        else ConsoleFormatter("%(levelname)s: %(message)s", debug)
    )
    if not verbose:
        handler.addFilter(OwnMessagesOnly())
    root.addHandler(handler)
    if verbose:
        root.setLevel(logging.INFO)
    for name in OWN_LOGGERS:
        if debug:
            logging.getLogger(name).setLevel(logging.DEBUG)
    logging.captureWarnings(True)  # library warnings are chatter too: shown with --verbose


def console_shows_info() -> None:
    """Let this project's INFO messages through (watch reports each intake as it runs)."""
    root = logging.getLogger()
    if root.level > logging.INFO:
        root.setLevel(logging.INFO)
    for h in root.handlers:
        if isinstance(h, ConsoleLogHandler) and h.level > logging.INFO:
            h.setLevel(logging.INFO)
