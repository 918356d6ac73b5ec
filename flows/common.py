"""Shared wiring for the flows: the store engine, JSON-safe artifact rows, log levels,
expected failures and the links an operator can follow."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from datasummary.settings import Settings, run_log_levels

#: Base https address of the COG distribution folder (the publish root), e.g. a SharePoint
#: library; when set, published documents are shown as links under it.
PUBLISH_URL_ENV = "DATASUMMARY_PUBLISH_URL"

run_log_levels()


def engine_for(settings: Settings) -> sa.Engine:
    """The store's engine, with every table created (idempotent)."""
    from transforms.store.db import create_all, make_engine

    engine = make_engine(settings.database_url)
    create_all(engine)
    return engine


def table_rows(frame: pd.DataFrame) -> list[dict]:
    """Rows a Prefect table artifact accepts (JSON-safe, NaN as null)."""
    return json.loads(frame.to_json(orient="records", date_format="iso"))


#: Messages of this process's expected failures: the engine's traceback for them is dropped.
_EXPECTED_MESSAGES: set[str] = set()


class _NoTracebackForExpectedFailures(logging.Filter):
    """Drops the engine's "exited with unexpected exception" traceback for an expected failure.

    A deployment's run subprocess re-raises a Failed state's exception when it ends; the one
    line logged by `expected_failure` already says everything the operator needs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return exc is None or str(exc) not in _EXPECTED_MESSAGES


_FILTER = _NoTracebackForExpectedFailures()


def expected_failure(exc: Exception):
    """A Failed state with `exc`'s one-line message, logged once, without a traceback.

    For failures an operator can fix (a wrong quarter, a missing folder, a run already
    going): returned from the flow, so the run ends Failed with the message in the runs list,
    and calling the flow in-process still raises `exc`.
    """
    from prefect import get_run_logger
    from prefect.states import Failed

    message = str(exc)
    _EXPECTED_MESSAGES.add(message)
    flow_runs = logging.getLogger("prefect.flow_runs")
    if _FILTER not in flow_runs.filters:
        flow_runs.addFilter(_FILTER)
    get_run_logger().error(message)
    return Failed(message=message, data=exc)


def folder_name(path: Path | str) -> str:
    """The last part of a folder's path, for short run names ('inbox' for /srv/x/inbox)."""
    return Path(str(path)).name or str(path)


def inbox_key(inbox: Path | str) -> str:
    """An artifact key per inbox: 'intake-<folder name>-<6 hex of the full path>'."""
    full = str(Path(str(inbox)).resolve())
    slug = re.sub(r"[^a-z0-9]+", "-", folder_name(inbox).lower()).strip("-")[:40] or "inbox"
    return f"intake-{slug}-{hashlib.sha256(full.encode()).hexdigest()[:6]}"


def published_url(path: Path, publish_root: Path) -> str | None:
    """The https address of a published document, when DATASUMMARY_PUBLISH_URL is set."""
    from urllib.parse import quote

    base = os.environ.get(PUBLISH_URL_ENV, "").strip().rstrip("/")
    if not base:
        return None
    try:
        relative = Path(path).resolve().relative_to(Path(publish_root).resolve())
    except ValueError:
        return None
    return base + "/" + "/".join(quote(part) for part in relative.parts)


def document_artifacts(
    paths: dict[str, Path], quarter_end: object, publish_root: Path | None = None
) -> None:
    """One keyed artifact per document (`report-<role>`), as an operator can use it.

    A draft, or a published copy without DATASUMMARY_PUBLISH_URL, is shown as its path, to
    copy (a file:// link does nothing in a browser); a published copy under a configured
    address is an https link. `publish_root` given means these are the published copies.
    """
    from prefect.artifacts import create_link_artifact, create_markdown_artifact

    for role, path in paths.items():
        path = Path(path)
        key = f"report-{role.replace('_', '-')}"
        state = "published to COG" if publish_root is not None else "draft, not yet approved"
        description = f"{path.name} ({quarter_end}, {state})"
        url = published_url(path, publish_root) if publish_root is not None else None
        if url:
            create_link_artifact(key=key, link=url, link_text=path.name, description=description)
        else:
            create_markdown_artifact(
                key=key,
                markdown=f"**{path.name}** — {state}\n\n`{path.resolve()}`",
                description=description,
            )
