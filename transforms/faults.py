"""Faults an operator must put right: said in one line, not a traceback.

A run that cannot do its job because of its surroundings (the inbox's `feedback/` is not a
folder, the store folder is read-only, the database is unreachable) raises `OperatorError`
with a message that says what failed, where and what to do. The CLI prints that line and
exits non-zero; a Prefect flow fails with it as its message. Never put a password in one.
"""

from __future__ import annotations

import errno
import logging


class OperatorError(RuntimeError):
    """Something about the environment, not the data, stopped the run (one clear line)."""


class OneLineForOperatorErrors(logging.Filter):
    """Drop the traceback from a log record about an operator fault: its line says it all.

    Installed on Prefect's flow- and task-run loggers by the CLI, which otherwise print a
    forty-line engine traceback above the one line that matters.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and environment_fault(exc) is not None:
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


_DISK_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT, errno.ENOENT}


def _causes(exc: BaseException) -> list[BaseException]:
    """`exc` and the exceptions it was raised from, outermost first (no loops)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def masked_url(url: str | None) -> str | None:
    """A database URL fit to show: the password replaced by ***."""
    if not url:
        return None
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is not shown at all
        return "(the configured database URL)"


def environment_fault(exc: BaseException, store: str | None = None) -> str | None:
    """One line saying what in the surroundings failed and where, or None (not such a fault).

    `store` is the database URL in use, shown with its password masked. The driver's own
    first line is kept (it names host and port, never the password).
    """
    import sqlalchemy.exc as sa_exc

    for e in _causes(exc):
        if isinstance(e, OperatorError):
            return str(e)
        if isinstance(e, (sa_exc.OperationalError, sa_exc.InterfaceError)):
            reason = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
            shown = masked_url(store) if store and "://" in store else store
            where = f" at {shown}" if shown else ""
            return (
                f"the store{where} could not be used ({reason}): check that the database "
                "is running and reachable, the address is right and its folder is writable"
            )
        if isinstance(e, OSError) and e.errno in _DISK_ERRNOS:
            what = f" {e.filename}" if e.filename else ""
            return (
                f"could not write{what} ({e.strerror}): check that the folder exists, "
                "is writable and has space"
            )
    return None
