"""Database engine and metadata shared by the store's modules."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry

metadata = sa.MetaData()


def sqlite_url(output_dir: Path) -> str:
    """The default store: `OUTPUT/state/datasummary.sqlite`."""
    path = Path(output_dir).resolve() / "state" / "datasummary.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def make_engine(url: str) -> sa.Engine:
    """An engine for `url`; SQLite gets a busy timeout, foreign keys on and WAL.

    WAL with `synchronous=NORMAL` (SQLite's recommended pairing) does not fsync on every
    commit: a crash of the process loses nothing committed, a power cut may lose the last
    commits but never corrupts the store — and intake re-files anything not recorded, from
    the archive.
    """
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(
            dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry
        ) -> None:  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return sa.create_engine(url, pool_pre_ping=True)


def create_all(engine: sa.Engine, *, sheets: bool = True) -> None:
    """Create every table the store modules declared (idempotent).

    `sheets=False` leaves out the accepted-data tables, whose declaration loads and
    validates the specification: intake creates those only when it has a file to check,
    so a re-run with nothing new reads no specification.
    """
    # Importing the modules registers their tables on `metadata`.
    from transforms.store import accepted, history, ledger  # noqa: F401

    if sheets:
        accepted.tables()
    wanted = (
        set(metadata.tables)
        if sheets
        else {name for name in metadata.tables if name not in accepted.declared_names()}
    )
    # One look at the table names first: a store that has them all (every re-run) is not
    # asked about each table in turn.
    if not wanted <= set(sa.inspect(engine).get_table_names()):
        metadata.create_all(engine, tables=[metadata.tables[n] for n in sorted(wanted)])
