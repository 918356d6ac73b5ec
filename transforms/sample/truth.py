"""The sample's manifest and ground truth: what was delivered, and what is in force.

Tests compute every measure from these files alone (never from the code under test):
`in_force.csv` says which workbook holds each (submitter, quarter); one CSV per table and
record sheet and `items.csv`/`progress.csv` hold the values of those workbooks exactly as
written; `mismatches.csv` lists the children planted in only one of LAC_Starts and
Health_Assessments. The files carry synthetic children only.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from transforms.spec import Spec, default_spec

TRUTH_DIR = "ground_truth"
INBOX_DIR = "inbox"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Delivery:
    """One workbook dropped in the inbox, and what intake must make of it."""

    file: Path
    submitter: str
    quarter_end: dt.date
    arrival: dt.datetime  # tz-aware UTC; also the file's mtime
    expected_status: str  # accepted / accepted with warnings / rejected / superseded
    fault: str | None = None  # what is wrong, for rejected (and warning) files
    note: str = ""
    late: bool = False  # first seen after the due date (Europe/London)
    date_completed: dt.date | None = None

    def to_json(self, root: Path) -> dict[str, Any]:
        """JSON-safe form, with the file relative to the sample folder."""
        return {
            "file": str(self.file.relative_to(root)),
            "submitter": self.submitter,
            "quarter_end": self.quarter_end.isoformat(),
            "arrival": self.arrival.isoformat(),
            "expected_status": self.expected_status,
            "fault": self.fault,
            "note": self.note,
            "late": self.late,
            "date_completed": (self.date_completed.isoformat() if self.date_completed else None),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any], root: Path) -> Delivery:
        """Inverse of `to_json`."""
        return cls(
            file=root / d["file"],
            submitter=d["submitter"],
            quarter_end=dt.date.fromisoformat(d["quarter_end"]),
            arrival=dt.datetime.fromisoformat(d["arrival"]),
            expected_status=d["expected_status"],
            fault=d["fault"],
            note=d["note"],
            late=d.get("late", False),
            date_completed=(
                dt.date.fromisoformat(d["date_completed"]) if d.get("date_completed") else None
            ),
        )


@dataclass
class Sample:
    """A generated partnership: where it is, its quarters and every delivery."""

    out_dir: Path
    partnership: str
    seed: int
    quarters: list[dt.date]
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def inbox(self) -> Path:
        """The folder the workbooks were written to."""
        return self.out_dir / INBOX_DIR

    @property
    def truth_dir(self) -> Path:
        """The folder of the ground-truth files."""
        return self.out_dir / TRUTH_DIR

    def in_force(self) -> list[Delivery]:
        """Deliveries whose data is in force (accepted, with or without warnings)."""
        return [
            d
            for d in self.deliveries
            if d.expected_status in ("accepted", "accepted with warnings")
        ]

    def write_manifest(self) -> Path:
        """Write `ground_truth/manifest.json`."""
        self.truth_dir.mkdir(parents=True, exist_ok=True)
        path = self.truth_dir / MANIFEST
        data = {
            "partnership": self.partnership,
            "seed": self.seed,
            "quarters": [q.isoformat() for q in self.quarters],
            "deliveries": [d.to_json(self.out_dir) for d in self.deliveries],
        }
        path.write_text(json.dumps(data, indent=1), encoding="utf-8")
        return path

    @classmethod
    def load(cls, out_dir: Path) -> Sample:
        """Re-read a sample written by `generate_sample`."""
        out_dir = Path(out_dir)
        data = json.loads((out_dir / TRUTH_DIR / MANIFEST).read_text(encoding="utf-8"))
        return cls(
            out_dir=out_dir,
            partnership=data["partnership"],
            seed=data["seed"],
            quarters=[dt.date.fromisoformat(q) for q in data["quarters"]],
            deliveries=[Delivery.from_json(d, out_dir) for d in data["deliveries"]],
        )


# ---------------------------------------------------------------- writing
def _cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def _write_csv(path: Path, header: list[str], rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for row in rows:
            w.writerow([_cell(row.get(h)) for h in header])


def write_truth(
    sample: Sample,
    in_force: dict[tuple[str, dt.date], dict[str, Any]],
    mismatches: list[dict[str, Any]],
    spec: Spec | None = None,
) -> None:
    """Write the ground-truth files from the in-force contents.

    `in_force` maps (submitter, quarter) to {"file", "date_completed", "sheets": {sheet:
    rows}} of the workbook in force.
    """
    spec = spec or default_spec()
    d = sample.truth_dir
    d.mkdir(parents=True, exist_ok=True)
    keys = sorted(in_force, key=lambda k: (k[1], k[0]))
    _write_csv(
        d / "in_force.csv",
        ["submitter", "quarter_end", "file", "date_completed"],
        [
            {
                "submitter": s,
                "quarter_end": q,
                "file": in_force[(s, q)]["file"],
                "date_completed": in_force[(s, q)]["date_completed"],
            }
            for s, q in keys
        ],
    )
    per_sheet: dict[str, list[dict[str, Any]]] = {}
    for s, q in keys:
        info = in_force[(s, q)]
        for sheet, rows in info["sheets"].items():
            for row in rows:
                extra = {"submitter": s, "quarter_end": q, "date_completed": info["date_completed"]}
                if spec.returns.sheets[sheet].kind == "items":
                    extra["sheet"] = sheet
                per_sheet.setdefault(sheet, []).append({**extra, **row})
    items: list[dict[str, Any]] = []
    for sheet, rows in per_sheet.items():
        if spec.returns.sheets[sheet].kind == "items":
            items.extend(rows)
            continue
        cols = [c.name for c in spec.returns.sheet_columns(sheet)]
        _write_csv(
            d / f"{sheet.lower()}.csv", ["submitter", "quarter_end", "date_completed", *cols], rows
        )
    _write_csv(
        d / "items.csv",
        ["submitter", "quarter_end", "date_completed", "sheet", "item", "value", "notes"],
        items,
    )
    _write_csv(
        d / "mismatches.csv",
        ["quarter_end", "child_ref", "in_lac_starts", "in_health_assessments"],
        mismatches,
    )


# ---------------------------------------------------------------- reading
def load_truth(out_dir: Path, spec: Spec | None = None) -> dict[str, pd.DataFrame]:
    """The ground truth as typed frames: `in_force`, `items`, `mismatches` and one per
    table/record/progress sheet (by spec sheet name). Counts `Int64` (NA = not available),
    dates `datetime64`, text `str`."""
    spec = spec or default_spec()
    d = Path(out_dir) / TRUTH_DIR
    types = {"quarter_end": "date", "date_completed": "date", "value": "count"}
    for sheet in spec.returns.sheets:
        for column in spec.returns.sheet_columns(sheet):
            types.setdefault(column.name, column.type)
    out: dict[str, pd.DataFrame] = {}
    names = {"in_force": "in_force", "items": "items", "mismatches": "mismatches"}
    names |= {s: s.lower() for s, sh in spec.returns.sheets.items() if sh.kind != "items"}
    for key, stem in names.items():
        path = d / f"{stem}.csv"
        if not path.exists():
            continue
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        for col in df.columns:
            kind = types.get(col, "text")
            blank = df[col] == ""
            if kind == "date":
                df[col] = pd.to_datetime(df[col].where(~blank), format="%Y-%m-%d")
            elif kind in ("count", "int"):
                df[col] = pd.array(
                    [None if b else int(v) for v, b in zip(df[col], blank, strict=True)],
                    dtype="Int64",
                )
            elif key == "mismatches" and col.startswith("in_"):
                df[col] = df[col] == "True"
            else:
                df[col] = df[col].where(~blank)
        out[key] = df
    return out
