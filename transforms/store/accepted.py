"""Accepted return data: one table per specification sheet, generated from spec/returns.yaml.

Only rows from accepted workbooks are written here; which of them are *in force* (not
superseded) is read from the ledger's `submissions` table. A column added to the
specification is a column here with no code change.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from transforms.findings import IN_FORCE, ParsedReturn
from transforms.store.db import metadata
from transforms.store.ledger import submissions

if TYPE_CHECKING:  # imported where used: a re-run of intake creates no table and reads no spec
    import pandas as pd

    from transforms.spec import ReturnSpec

_SQL_TYPES: dict[str, type[sa.types.TypeEngine[Any]]] = {
    "count": sa.BigInteger,
    "int": sa.BigInteger,
    "date": sa.Date,
}


def table_name(sheet: str) -> str:
    """'LAC_Census' -> 'data_lac_census'."""
    return "data_" + sheet.lower()


def _declare(spec: ReturnSpec) -> dict[str, sa.Table]:
    tables: dict[str, sa.Table] = {}
    for sheet_name in spec.sheets:
        name = table_name(sheet_name)
        if name in metadata.tables:
            tables[sheet_name] = metadata.tables[name]
            continue
        cols: list[sa.Column[Any]] = [
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("sha256", sa.String(64), sa.ForeignKey("ledger_files.sha256"), index=True),
            sa.Column("submitter", sa.String(16), nullable=False),
            sa.Column("quarter_end", sa.Date, nullable=False, index=True),
            sa.Column("date_completed", sa.Date, nullable=True),
            sa.Column("excel_row", sa.Integer, nullable=False),
        ]
        for col in spec.sheet_columns(sheet_name):
            cols.append(sa.Column(col.name, _SQL_TYPES.get(col.type, sa.Text), nullable=True))
        tables[sheet_name] = sa.Table(name, metadata, *cols)
    return tables


@cache
def tables() -> dict[str, sa.Table]:
    """The table of each sheet of the default specification, declared on first use."""
    from transforms.spec import default_spec

    return _declare(default_spec().returns)


def declared_names() -> set[str]:
    """The sheet tables declared so far in this process (none before `tables()`)."""
    return {t.name for t in tables().values()} if tables.cache_info().currsize else set()


def accepted_rows_of(
    workbooks: Iterable[tuple[str, ParsedReturn]],
) -> dict[str, list[dict[str, object]]]:
    """Every sheet row of many accepted workbooks as insert parameters, by sheet name, in
    the workbooks' order and each sheet's row order.

    Intake files workbooks in groups and inserts them with one statement per table
    (`save_rows`). Frames that follow one another with the same columns and dtypes are
    converted as one (about 18 rows a sheet: pandas' cost per call, not per row, is what a
    conversion per workbook paid); the values are those of converting each on its own.
    """
    parts: dict[str, list[tuple[dict[str, object], pd.DataFrame]]] = {}
    for sha256, parsed in workbooks:
        cover = parsed.cover
        fixed: dict[str, object] = {
            "sha256": sha256,
            "submitter": cover.submitter,
            "quarter_end": cover.quarter_end,
            "date_completed": cover.date_completed,
        }
        for sheet_name, frame in parsed.sheets.items():
            if not frame.empty:
                parts.setdefault(sheet_name, []).append((fixed, frame))
    return {sheet: _sheet_rows(tables()[sheet], items) for sheet, items in parts.items()}


def _sheet_rows(
    table: sa.Table, items: list[tuple[dict[str, object], pd.DataFrame]]
) -> list[dict[str, object]]:
    """Insert parameters of one sheet's frames, converting each run of like frames at once."""
    import pandas as pd

    out: list[dict[str, object]] = []
    for shape, run in itertools.groupby(items, key=lambda item: _shape(item[1])):
        run_items = list(run)
        frames = [frame for _, frame in run_items]
        whole = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        names = [c.name for c in table.columns if c.name != "id" and c.name in shape[0]]
        columns = [_plain_column(whole[n]) for n in names]
        fixed_rows = [fixed for fixed, frame in run_items for _ in range(len(frame))]
        out.extend(
            {**fixed, **dict(zip(names, values, strict=True))}
            for fixed, values in zip(fixed_rows, zip(*columns, strict=True), strict=True)
        )
    return out


def _shape(frame: pd.DataFrame) -> tuple[tuple[object, ...], tuple[object, ...]]:
    """A frame's columns and their dtypes: frames alike are converted together."""
    return tuple(frame.columns), tuple(frame.dtypes)


def save_rows(conn: sa.Connection, rows: dict[str, list[dict[str, object]]]) -> None:
    """Insert `accepted_rows_of` (one or many workbooks): one executemany per sheet table."""
    for sheet_name, params in rows.items():
        if params:
            conn.execute(tables()[sheet_name].insert(), params)


#: Datetime columns this long are converted with `.dt.date` (see `_plain_column`).
LONG_COLUMN = 64


def _plain_column(series: pd.Series) -> list[object]:
    """A column as plain Python values for the DB driver (NA -> None, datetimes -> dates)."""
    import numpy as np
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(series):
        if len(series) < LONG_COLUMN:
            return [None if pd.isna(v) else v.date() for v in series.tolist()]
        # `.dt.date` makes the dates in C, without a Timestamp per value, but costs about
        # 80 µs a call: worth it from a few dozen values (a run of like frames), not for one.
        return [None if v is pd.NaT else v for v in series.dt.date.tolist()]
    # pandas-stubs gap: `na_value` is typed without None, which pandas accepts.
    values = series.to_numpy(dtype=object, na_value=None).tolist()  # type: ignore[call-overload]
    return [v.item() if isinstance(v, np.generic) else v for v in values]


def accepted_sheet(
    conn: sa.Connection, sheet_name: str, spec: ReturnSpec | None = None
) -> pd.DataFrame:
    """Rows of `sheet_name` from the submissions in force, typed as the parser types them.

    Columns: sha256, submitter, quarter_end, date_completed (datetime64), excel_row, then
    the specification's columns. One in-force submission per submitter and quarter.
    """
    import pandas as pd

    from transforms.spec import default_spec

    spec = spec or default_spec().returns
    table = tables()[sheet_name]
    query = (
        sa.select(table)
        .join(submissions, submissions.c.sha256 == table.c.sha256)
        .where(submissions.c.status.in_(IN_FORCE))
        .order_by(table.c.quarter_end, table.c.submitter, table.c.excel_row)
    )
    frame = pd.DataFrame(
        conn.execute(query).mappings().all(), columns=[c.name for c in table.columns]
    )
    frame = frame.drop(columns=["id"])
    for name in ("quarter_end", "date_completed"):
        frame[name] = pd.to_datetime(frame[name])
    for col in spec.sheet_columns(sheet_name):
        if col.type in ("count", "int"):
            frame[col.name] = frame[col.name].astype("Int64")
        elif col.type == "date":
            frame[col.name] = pd.to_datetime(frame[col.name])
        else:
            frame[col.name] = frame[col.name].astype("str").where(frame[col.name].notna())
    return frame


def accepted_data(conn: sa.Connection, spec: ReturnSpec | None = None) -> dict[str, pd.DataFrame]:
    """Every sheet's in-force rows: the input of the measure engine."""
    from transforms.spec import default_spec

    spec = spec or default_spec().returns
    return {name: accepted_sheet(conn, name, spec) for name in spec.sheets}
