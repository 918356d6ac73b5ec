"""Write a synthetic partnership's inbox: every submitter's return for every quarter.

Workbooks are the templates of `transforms.intake.templates`, filled with the simulated truth, so
templates and sample always agree. Delivery is made realistic: most returns on time, a few
late, one corrected resubmission (the first superseded), a handful of faulty workbooks for
the feedback path (some corrected later, some the only return of their quarter) and one
accepted with a warning. The manifest says what intake must conclude for each file.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import random
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from openpyxl import Workbook

from transforms.intake.template_filling import fill_template
from transforms.intake.templates import set_quarter, template_workbook
from transforms.quarters import LONDON, is_late, quarter_range
from transforms.sample.progress import progress_content
from transforms.sample.simulate import Content, Simulator, Truth
from transforms.sample.truth import INBOX_DIR, Delivery, Sample, write_truth
from transforms.spec import Spec, default_spec

ACCEPTED, WARNINGS, REJECTED, SUPERSEDED = (
    "accepted",
    "accepted with warnings",
    "rejected",
    "superseded",
)

# fault kind -> (submitter, position in the period 0..1, corrected later?, description)
FAULTS: dict[str, tuple[str, float, bool, str]] = {
    "unknown_code": ("CSW", 0.5, False, "LAC_Starts: unknown placement code 'FOSTER' in row 2"),
    "missing_sheet": ("EDU", 0.6, False, "the School_Outcomes sheet is missing"),
    "count_text": ("NHSG", 0.35, True, "CAMHS: count typed 'NA' for started_treatment (row 2)"),
    "two_digit_year": (
        "CSW",
        0.75,
        True,
        "LAC_Starts: start_date in row 2 typed with a two-digit year (d/m/yy)",
    ),
    "chi_number": (
        "NHSG",
        0.9,
        True,
        "Health_Assessments: a CHI-like 10-digit number as child_ref in row 2",
    ),
}
RESUBMISSION = ("CSW", 0.2)  # accepted, then a corrected workbook supersedes it
WARNING = ("HSCP", 0.45)  # a blank item value with no note
WARNING_ITEM = ("Transitions", "transitions_evaluated")
LATE_SHARE = 0.07
PEOPLE = {
    "CSW": "Morag Innes",
    "NHSG": "Dr Ewan Reid",
    "EDU": "Fiona Grant",
    "HSCP": "Alasdair Munro",
    "ICSB": "Catriona Shaw",
    "CPC": "Graham Duthie",
    "CPIG": "Isla Robertson",
    "IJB": "Neil Buchan",
    "BIU": "Ruth Milne",
}


@dataclass
class Version:
    """One workbook planned for a (submitter, quarter)."""

    kind: str  # "fault", "wrong" (superseded later) or "final"
    date_completed: dt.date
    arrival: dt.datetime
    fault: str | None = None
    warning: bool = False


@dataclass
class _Plan:
    versions: dict[tuple[str, dt.date], list[Version]] = field(default_factory=dict)


def _prefix(partnership: str) -> str:
    letters = "".join(w[0] for w in partnership.split() if w[:1].isalpha()).upper()
    return (letters or "P")[:4]


def _scale(partnership: str) -> float:
    if partnership == "Aberdeen City":
        return 1.0
    return 0.4 + (zlib.crc32(partnership.encode()) % 1000) / 1000 * 2.0


def _arrival(rng: random.Random, day: dt.date) -> dt.datetime:
    local = dt.datetime(
        day.year, day.month, day.day, rng.randint(8, 17), rng.randint(0, 59), tzinfo=LONDON
    )
    return local.astimezone(dt.UTC)


class _Free(Protocol):
    """Whether quarter index `i` is free for an event (a lambda binding its submitter)."""

    def __call__(self, i: int, /) -> bool: ...


def _place(n: int, frac: float, ok: _Free) -> int | None:
    ideal = round(frac * (n - 1))
    for idx in sorted(range(n), key=lambda i: (abs(i - ideal), i)):
        if ok(idx):
            return idx
    return None


def plan_deliveries(spec: Spec, quarters: list[dt.date], rng: random.Random, faults: bool) -> _Plan:
    """Which workbooks arrive for each (submitter, quarter), when, and with what fault."""
    n = len(quarters)
    events: dict[tuple[str, int], list[str]] = {}
    only: set[tuple[str, int]] = set()
    if faults:
        for kind, (sub, frac, fixed, _) in sorted(FAULTS.items(), key=lambda kv: kv[1][2]):
            if fixed:
                idx = _place(n, frac, lambda i, s=sub: (s, i) not in only)
            else:
                idx = _place(n, frac, lambda i, s=sub: (s, i) not in events)
                if idx is not None:
                    only.add((sub, idx))
            if idx is not None:
                events.setdefault((sub, idx), []).append(kind)
        for tag, (sub, frac) in (("wrong", RESUBMISSION), ("warning", WARNING)):
            idx = _place(n, frac, lambda i, s=sub: (s, i) not in only)
            if idx is not None:
                events.setdefault((sub, idx), []).append(tag)
    forced_late = ("HSCP", n // 2)
    plan = _Plan()
    for i, qe in enumerate(quarters):
        for submitter in spec.returns.submitters:
            key = (submitter.code, i)
            late = rng.random() < LATE_SHARE or (faults and key == forced_late)
            day = qe + dt.timedelta(days=rng.randint(23, 45) if late else rng.randint(5, 17))
            versions: list[Version] = []
            tags = events.get(key, [])
            for kind in [t for t in tags if t in FAULTS]:
                versions.append(Version("fault", day, _arrival(rng, day), fault=kind))
                day += dt.timedelta(days=rng.randint(1, 3))
            if key not in only:
                if "wrong" in tags:
                    versions.append(Version("wrong", day, _arrival(rng, day)))
                    day += dt.timedelta(days=rng.randint(2, 4))
                versions.append(
                    Version("final", day, _arrival(rng, day), warning="warning" in tags)
                )
            plan.versions[(submitter.code, qe)] = versions
    return plan


# ---------------------------------------------------------------- contents per version
def _trim_to(content: Content, dc: dt.date) -> Content:
    """An earlier version of a record sheet: dates after its own Date completed unknown yet."""
    out = copy.deepcopy(content)
    for row in out.get("Health_Assessments", []):
        for col in ("date_iha", "date_episode_ended"):
            if row[col] is not None and row[col] > dc:
                row[col] = None
    return out


def _first_sheet(spec: Spec, sub: str, kind: str) -> str | None:
    return next(
        (s for s in spec.returns.submitter(sub).sheets if spec.returns.sheets[s].kind == kind), None
    )


def _apply_fault(spec: Spec, sub: str, kind: str, content: Content) -> tuple[Content, str | None]:
    """The content with one deliberate error; returns (content, sheet to delete or None)."""
    c = copy.deepcopy(content)
    records = _first_sheet(spec, sub, "records")
    if kind == "count_text":
        sheet = _first_sheet(spec, sub, "items")
        assert sheet is not None, f"{sub} sends no items sheet"
        c[sheet][0]["value"] = "NA"
    elif kind == "two_digit_year" and records:
        col = next(x.name for x in spec.returns.sheet_columns(records) if x.inside_quarter)
        d = c[records][0][col]
        c[records][0][col] = f"{d.day}/{d.month}/{d.year % 100:02d}"
    elif kind == "chi_number" and records:
        c[records][0]["child_ref"] = "1203154321"
    elif kind == "unknown_code" and records:
        c[records][0]["placement_type"] = "FOSTER"
    elif kind == "missing_sheet":
        return c, spec.returns.submitter(sub).sheets[-1]
    return c, None


def _wrong_figure(spec: Spec, sub: str, content: Content) -> Content:
    """A plausible mistake corrected by the resubmission: one count 10 too high."""
    c = copy.deepcopy(content)
    sheet = _first_sheet(spec, sub, "table") or _first_sheet(spec, sub, "items")
    assert sheet is not None, f"{sub} sends no table or items sheet"
    row = c[sheet][0]
    col = next(k for k, v in row.items() if isinstance(v, int) and k != "item")
    row[col] += 10
    return c


def _with_warning(content: Content) -> Content:
    c = copy.deepcopy(content)
    sheet, item = WARNING_ITEM
    for row in c.get(sheet, []):
        if row["item"] == item:
            row["value"], row["notes"] = None, None
    return c


# ---------------------------------------------------------------- the generator
def _email(sub: str, partnership: str) -> str:
    domain = "".join(ch for ch in partnership.lower() if ch.isalnum()) or "partnership"
    return f"{sub.lower()}.returns@{domain}.gov.uk"


def _file_name(sub: str, qe: dt.date, n: int) -> str:
    return f"{sub}_{qe.isoformat()}{'' if n == 1 else f'_v{n}'}.xlsx"


def _clear_previous(out_dir: Path) -> None:
    """Remove the workbooks of an earlier sample in the same folder (only those it listed)."""
    try:
        old = Sample.load(out_dir)
    except (FileNotFoundError, ValueError, KeyError):
        return
    for d in old.deliveries:
        d.file.unlink(missing_ok=True)


def _version_content(
    spec: Spec, sub: str, versions: list[Version], v: Version, base: Content
) -> tuple[Content, str | None, str, str]:
    """A version's sheets, the sheet to drop, the status intake must give it, and a note."""
    if v.kind == "fault":
        content, drop = _apply_fault(spec, sub, v.fault or "", _trim_to(base, v.date_completed))
        fixed = any(x.kind == "final" for x in versions)
        note = (
            "corrected by a later workbook"
            if fixed
            else "the only return for this quarter: no data in force"
        )
        return content, drop, REJECTED, note
    if v.kind == "wrong":
        content = _wrong_figure(spec, sub, _trim_to(base, v.date_completed))
        return content, None, SUPERSEDED, "a figure corrected by the next workbook"
    if v.warning:
        note = f"{WARNING_ITEM[0]}: blank value for {WARNING_ITEM[1]}, no note"
        return _with_warning(base), None, WARNINGS, note
    return base, None, ACCEPTED, ""


def _truth(
    spec: Spec, quarters: list[dt.date], base_seed: int, partnership: str, plan: _Plan
) -> Truth:
    """The simulated partnership's returns (and Progress) for every submitter and quarter."""
    completed = {k: v[-1].date_completed for k, v in plan.versions.items() if v}
    sim = Simulator(
        spec, quarters, base_seed + 1, _prefix(partnership), _scale(partnership), completed
    )
    truth = sim.run()
    for key, rows in progress_content(spec, quarters, base_seed + 2).items():
        truth.content[key] = {"Progress": rows}
    return truth


def _cover(sub: str, partnership: str, v: Version) -> dict[str, Any]:
    """The Cover values a submitter's officer fills in."""
    return {
        "completed_by": PEOPLE.get(sub, "Data Officer"),
        "email": _email(sub, partnership),
        "date_completed": v.date_completed,
    }


def _workbook(
    spec: Spec, sub: str, qe: dt.date, v: Version, templates: dict[str, Workbook], drops: bool
) -> Workbook:
    """A blank template for a version: the submitter's reused one unless this one is broken."""
    if drops or v.kind == "fault":  # a faulty workbook is changed: never reuse it
        return template_workbook(sub, qe, spec)
    wb = templates.get(sub) or template_workbook(sub, qe, spec)
    templates[sub] = wb
    set_quarter(wb, qe, spec)
    return wb


def _delivery(
    path: Path, sub: str, qe: dt.date, v: Version, status: str, note: str, deadline: int
) -> Delivery:
    """The manifest's line for one written workbook (a late arrival says so in its note)."""
    late = is_late(qe, v.arrival, deadline)
    if late:
        note = f"{note}; late" if note else "late"
    fault_text = FAULTS[v.fault][3] if v.fault else (note if status == WARNINGS else None)
    return Delivery(
        file=path,
        submitter=sub,
        quarter_end=qe,
        arrival=v.arrival,
        expected_status=status,
        fault=fault_text,
        note=note,
        late=late,
        date_completed=v.date_completed,
    )


def generate_sample(
    out_dir: Path,
    *,
    first: dt.date = dt.date(2019, 9, 30),
    last: dt.date = dt.date(2022, 9, 30),
    seed: int = 2019,
    faults: bool = True,
    partnership: str = "Aberdeen City",
    spec: Spec | None = None,
) -> Sample:
    """Write `out_dir/inbox/*.xlsx` and `out_dir/ground_truth/`; returns the Sample."""
    spec = spec or default_spec()
    out_dir = Path(out_dir)
    _clear_previous(out_dir)
    inbox = out_dir / INBOX_DIR
    inbox.mkdir(parents=True, exist_ok=True)
    quarters = quarter_range(first, last)
    base_seed = seed * 1_000_003 + zlib.crc32(partnership.encode())
    plan = plan_deliveries(spec, quarters, random.Random(base_seed), faults)
    truth = _truth(spec, quarters, base_seed, partnership, plan)
    sample = Sample(out_dir=out_dir, partnership=partnership, seed=seed, quarters=quarters)
    in_force: dict[tuple[str, dt.date], dict[str, Any]] = {}
    templates: dict[str, Workbook] = {}
    deadline = spec.returns.periods.deadline_days
    for qe in quarters:
        for sub in spec.returns.submitters:
            versions = plan.versions[(sub.code, qe)]
            base = truth.content[(sub.code, qe)]
            for n, v in enumerate(versions, start=1):
                content, drop, status, note = _version_content(spec, sub.code, versions, v, base)
                path = inbox / _file_name(sub.code, qe, n)
                wb = _workbook(spec, sub.code, qe, v, templates, drop is not None)
                fill_template(wb, _cover(sub.code, partnership, v), content, spec)
                if drop is not None:
                    del wb[drop]
                wb.save(path)
                stamp = v.arrival.timestamp()
                os.utime(path, (stamp, stamp))
                sample.deliveries.append(_delivery(path, sub.code, qe, v, status, note, deadline))
                if status in (ACCEPTED, WARNINGS):
                    in_force[(sub.code, qe)] = {
                        "file": path.name,
                        "date_completed": v.date_completed,
                        "sheets": content,
                    }
    sample.deliveries.sort(key=lambda d: (d.arrival, d.file.name))
    sample.write_manifest()
    both = [
        m
        for m in truth.mismatches
        if ("CSW", m["quarter_end"]) in in_force and ("NHSG", m["quarter_end"]) in in_force
    ]
    write_truth(sample, in_force, both, spec)
    return sample
