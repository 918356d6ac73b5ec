"""Open data beside the public pack: `measures_public.csv` and its `datapackage.json`.

The CSV is the tidy series of measures.csv after disclosure control: a suppressed figure is
a blank cell, and the `suppressed` / `suppressed_fields` columns say which blanks are
suppression rather than missing data (whose reason is in `reason`). The data package
describes it as a Frictionless Table Schema (types, units, missing values, the marker,
licence) so that `frictionless validate datapackage.json` checks it.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd

from transforms.atomic import atomic_write_text
from transforms.measures.targets import CSV_COLUMNS, measures_csv_frame
from transforms.quarters import quarter_label
from transforms.spec import Spec

PUBLIC_CSV = "measures_public.csv"
DATAPACKAGE = "datapackage.json"
#: The columns disclosure control may hide (transforms.measures.disclosure).
SUPPRESSIBLE = ("numerator", "denominator", "value", "excluded", "pending")
LICENCE = {
    "name": "OGL-UK-3.0",
    "title": "Open Government Licence v3.0",
    "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
}
RAG_VALUES = ["Green", "Amber", "Red", "Not rated"]


def public_csv_frame(public: pd.DataFrame, symbol: str) -> pd.DataFrame:
    """measures.csv's columns from the disclosure-controlled frame, suppressed cells blank,
    plus `suppressed` (true/false) and `suppressed_fields` (e.g. 'numerator;value')."""
    frame = public.copy()
    hidden: dict[str, list[bool]] = {}
    for col in SUPPRESSIBLE:
        if col in frame.columns:
            hidden[col] = [isinstance(v, str) and v.strip() == symbol for v in frame[col]]
            frame[col] = pd.Series(
                [None if h else v for v, h in zip(frame[col], hidden[col], strict=True)],
                index=frame.index,
                dtype=object,
            )
    out = measures_csv_frame(frame)
    fields = [
        ";".join(c for c in SUPPRESSIBLE if c in hidden and hidden[c][i]) for i in range(len(out))
    ]
    out["suppressed"] = ["true" if f else "false" for f in fields]
    out["suppressed_fields"] = fields
    return out.reset_index(drop=True)


def _field(name: str, type_: str, description: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "description": description, **extra}


def _key_fields(spec: Spec) -> list[dict[str, Any]]:
    """The primary key: measure, quarter end, breakdown."""
    ids = [m.id for m in spec.measures.measures]
    return [
        _field(
            "measure_id",
            "string",
            "Measure identifier, as in the report's Definitions.",
            constraints={"required": True, "enum": ids},
        ),
        _field(
            "quarter_end",
            "date",
            "Last day of the quarter the figure is for.",
            format="default",
            constraints={"required": True},
        ),
        _field(
            "breakdown",
            "string",
            "'all' for the headline figure, else the breakdown group's code.",
            constraints={"required": True},
        ),
    ]


def _figure_fields(spec: Spec, suppressed_note: str) -> list[dict[str, Any]]:
    """The figures (counts may be suppressed), their unit, target and trajectory."""
    units = sorted({m.unit for m in spec.measures.measures} | {"percent", "count"})
    number = "number"
    return [
        _field("numerator", number, "Count of children meeting the measure." + suppressed_note),
        _field("denominator", number, "Count of children in the measure's base." + suppressed_note),
        _field(
            "value",
            number,
            "The figure, in the unit of the `unit` column, unrounded." + suppressed_note,
        ),
        _field(
            "unit",
            "string",
            "Unit of value, target and trajectory: percent (0-100), count, pp (percentage "
            "points), per_1000 (rate per 1,000), days.",
            constraints={"enum": units},
        ),
        _field("target", number, "The target in force for the quarter (unit as `unit`)."),
        _field("trajectory", number, "Where the trajectory towards the target stands."),
    ]


def _status_fields(suppressed_note: str) -> list[dict[str, Any]]:
    """RAG, trends, signal, the cohort counts, the reason and the suppression flags."""
    number = "number"
    return [
        _field(
            "rag",
            "string",
            "RAG status against the trajectory or target; blank for measures with no target.",
            constraints={"enum": RAG_VALUES},
        ),
        _field("trend", "string", "Against the previous quarter."),
        _field("trend_year", "string", "Against the same quarter a year earlier."),
        _field("signal", "string", "Run-chart signals (shift, trend), comma separated."),
        _field("excluded", number, "H01/H02: children excluded from the cohort." + suppressed_note),
        _field(
            "pending", number, "H01/H02: children whose 28 days had not run out." + suppressed_note
        ),
        _field("reason", "string", "Why a value is blank or not rated."),
        _field(
            "suppressed",
            "boolean",
            "true when a figure of this row was suppressed by disclosure control.",
            trueValues=["true"],
            falseValues=["false"],
            constraints={"required": True},
        ),
        _field(
            "suppressed_fields",
            "string",
            "The columns of this row left blank by disclosure control, separated by ';'.",
        ),
    ]


def table_schema(spec: Spec) -> dict[str, Any]:
    """The Table Schema of measures_public.csv: every column typed and described."""
    d = spec.measures.disclosure
    suppressed_note = (
        f" Blank when suppressed (see `suppressed_fields`): {d.footnote}"
        if d.footnote
        else " Blank when suppressed (see `suppressed_fields`)."
    )
    fields = (
        _key_fields(spec) + _figure_fields(spec, suppressed_note) + _status_fields(suppressed_note)
    )
    assert [f["name"] for f in fields] == [*CSV_COLUMNS, "suppressed", "suppressed_fields"]
    return {
        "fields": fields,
        "missingValues": [""],
        "primaryKey": ["measure_id", "quarter_end", "breakdown"],
    }


def datapackage(spec: Spec, quarter_end: dt.date) -> dict[str, Any]:
    """The Frictionless Data Package describing measures_public.csv."""
    plan = spec.plan
    return {
        "profile": "tabular-data-package",
        "name": f"data-summary-measures-{quarter_end.isoformat()}",
        "title": f"Data Summary measures to {quarter_label(quarter_end)}",
        "description": (
            f"{plan.partnership_long}: the measures of '{plan.title}' for every quarter up to "
            f"{quarter_label(quarter_end)}, after disclosure control."
        ),
        "version": quarter_end.isoformat(),
        "licenses": [LICENCE],
        "resources": [
            {
                "name": "measures-public",
                "path": PUBLIC_CSV,
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "dialect": {"delimiter": ",", "header": True},
                "schema": table_schema(spec),
            }
        ],
    }


def write_open_data(
    public: pd.DataFrame, spec: Spec, quarter_end: dt.date, out_dir: Path
) -> dict[str, Path]:
    """Write measures_public.csv and datapackage.json into `out_dir`, each atomically."""
    out_dir = Path(out_dir)
    frame = public_csv_frame(public, spec.measures.disclosure.symbol)
    csv = atomic_write_text(out_dir / PUBLIC_CSV, frame.to_csv(index=False, lineterminator="\n"))
    text = json.dumps(datapackage(spec, quarter_end), indent=2, ensure_ascii=False) + "\n"
    package = atomic_write_text(out_dir / DATAPACKAGE, text)
    return {"measures_public_csv": csv, "datapackage": package}
