"""The synthetic partnership's true figures: children simulated one by one, then aggregated.

Returns are derived from the simulated children (census by placement, starts, health
assessments) so the sheets agree with one another the way real returns would; counts with
no child-level source (child protection, care leavers, CAMHS…) are drawn around plausible
rates with every `a ≤ b` rule of the specification holding by construction.

Content is plain data: `{sheet_name: [row dict, …]}` per (submitter, quarter), row dicts
keyed by the specification's column names, ready for `template_filling.fill_sheet`.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field
from typing import Any

from transforms.quarters import quarter_start
from transforms.spec import Spec

Rows = list[dict[str, Any]]
Content = dict[str, Rows]

# placement mix of children looked after (and of starts), and the share placed in the city
PLACEMENT_MIX = {
    "AT_HOME": 0.22,
    "KINSHIP": 0.28,
    "FOSTER_LA": 0.25,
    "FOSTER_PURCHASED": 0.13,
    "PROSPECTIVE_ADOPTERS": 0.01,
    "OTHER_COMMUNITY": 0.01,
    "RES_LA_HOME": 0.04,
    "RES_VOLUNTARY_HOME": 0.03,
    "RES_SCHOOL": 0.015,
    "SECURE": 0.005,
    "CRISIS_CARE": 0.005,
    "OTHER_RESIDENTIAL": 0.005,
}
IN_CITY = {
    "AT_HOME": 0.98,
    "KINSHIP": 0.85,
    "FOSTER_LA": 0.93,
    "FOSTER_PURCHASED": 0.55,
    "PROSPECTIVE_ADOPTERS": 0.7,
    "OTHER_COMMUNITY": 0.8,
    "RES_LA_HOME": 0.95,
    "RES_VOLUNTARY_HOME": 0.35,
    "RES_SCHOOL": 0.2,
    "SECURE": 0.1,
    "CRISIS_CARE": 0.6,
    "OTHER_RESIDENTIAL": 0.4,
}
PUPIL_GROUP_OF = {
    "AT_HOME": "LAC_AT_HOME",
    "KINSHIP": "LAC_KINSHIP",
    "FOSTER_LA": "LAC_FOSTER",
    "FOSTER_PURCHASED": "LAC_FOSTER",
    "PROSPECTIVE_ADOPTERS": "LAC_FOSTER",
}
ATTENDANCE = {
    "LAC_AT_HOME": 0.84,
    "LAC_KINSHIP": 0.90,
    "LAC_FOSTER": 0.93,
    "LAC_RESIDENTIAL": 0.86,
    "ALL_PUPILS": 0.93,
}
EXCLUSIONS_PER_1000 = {
    "LAC_AT_HOME": 60,
    "LAC_KINSHIP": 30,
    "LAC_FOSTER": 20,
    "LAC_RESIDENTIAL": 80,
    "ALL_PUPILS": 9,
}
SCHOOL_DAYS = {9: 35, 12: 55, 3: 58, 6: 52}  # school days in the quarter ending month
# H01: share of children assessed within 28 days, anchored so the seed's trajectory is met
# in 2020-09 and 2022-09 and missed in 2021-09; other quarters wander either side of it.
H01_ANCHORS = [
    (dt.date(2019, 9, 30), 0.32),
    (dt.date(2020, 9, 30), 0.53),
    (dt.date(2021, 6, 30), 0.72),
    (dt.date(2021, 9, 30), 0.70),
    (dt.date(2022, 9, 30), 0.92),
    (dt.date(2030, 12, 31), 0.92),
]
H01_EXACT = {dt.date(2020, 9, 30), dt.date(2021, 9, 30), dt.date(2022, 9, 30)}
SHORT_EPISODE_SHARE = 0.08  # starts whose episode ends within 28 days
PENDING_SHARE = 0.6  # recent starts with no assessment yet when completed


@dataclass
class Child:
    """One looked-after child of the simulation (never leaves the generator but via returns)."""

    ref: str
    sex: str
    age: int
    placement: str
    in_city: bool
    start: dt.date
    end: dt.date | None = None
    notified: dt.date | None = None
    csw_notified: bool = True


@dataclass
class Truth:
    """True content per (submitter, quarter) and the cross-agency mismatches planted."""

    content: dict[tuple[str, dt.date], Content] = field(default_factory=dict)
    mismatches: list[dict[str, Any]] = field(default_factory=list)


def _interp(anchors: list[tuple[dt.date, float]], d: dt.date) -> float:
    if d <= anchors[0][0]:
        return anchors[0][1]
    for (d0, v0), (d1, v1) in zip(anchors, anchors[1:], strict=False):
        if d <= d1:
            return v0 + (v1 - v0) * (d - d0).days / (d1 - d0).days
    return anchors[-1][1]


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _count(rng: random.Random, mean: float, sd_rel: float = 0.1) -> int:
    return max(0, round(rng.gauss(mean, max(1.0, mean * sd_rel))))


def _part(rng: random.Random, whole: int, share: float, spread: float = 0.04) -> int:
    """A subset count of `whole`, about `share` of it (so `part ≤ whole` always holds)."""
    s = min(1.0, max(0.0, rng.gauss(share, spread)))
    return min(whole, max(0, round(whole * s)))


def _day_in(rng: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
    return lo + dt.timedelta(days=rng.randint(0, (hi - lo).days))


class Simulator:
    """Simulates one partnership quarter by quarter."""

    def __init__(
        self,
        spec: Spec,
        quarters: list[dt.date],
        seed: int,
        prefix: str,
        scale: float,
        completed: dict[tuple[str, dt.date], dt.date],
    ) -> None:
        self.spec = spec
        self.quarters = quarters
        self.rng = random.Random(seed)
        self.prefix = prefix
        self.scale = scale
        self.completed = completed  # (submitter, quarter) -> in-force Date completed
        self._next_ref = 0
        self.children: list[Child] = []
        self.register = round(110 * scale)
        self.truth = Truth()

    # ------------------------------------------------------------ children
    def _new_child(self, start: dt.date, age: int | None = None) -> Child:
        rng = self.rng
        self._next_ref += 1
        placement = _pick(rng, PLACEMENT_MIX)
        return Child(
            ref=f"{self.prefix}{self._next_ref:06d}",
            sex=rng.choices(["M", "F", "X"], weights=[51, 48, 1])[0],
            age=age if age is not None else min(17, int(rng.triangular(0, 18, 3))),
            placement=placement,
            in_city=rng.random() < IN_CITY[placement],
            start=start,
        )

    def _seed_population(self) -> None:
        first_start = quarter_start(self.quarters[0])
        for _ in range(round(550 * self.scale)):
            start = first_start - dt.timedelta(days=self.rng.randint(30, 3000))
            self.children.append(self._new_child(start))

    def _quarter_children(self, qe: dt.date) -> list[Child]:
        """Move, end and start episodes in the quarter; returns the quarter's starts."""
        rng, qs = self.rng, quarter_start(qe)
        target = 550 * self.scale
        in_care = [c for c in self.children if c.end is None]
        p_exit = 40 * self.scale / target * (len(in_care) / target)
        for c in in_care:
            if rng.random() < p_exit:
                c.end = _day_in(rng, qs, qe)
            elif rng.random() < 0.03:
                c.placement = _pick(rng, PLACEMENT_MIX)
                c.in_city = rng.random() < IN_CITY[c.placement]
        starts = []
        for _ in range(max(1, _count(rng, 40 * self.scale, 0.15))):
            c = self._new_child(_day_in(rng, qs, qe))
            c.notified = c.start + dt.timedelta(days=min(28, int(rng.expovariate(1 / 3))))
            c.csw_notified = rng.random() > 0.1
            if rng.random() < SHORT_EPISODE_SHARE:
                c.end = c.start + dt.timedelta(days=rng.randint(1, 28))
            starts.append(c)
        self.children.extend(starts)
        return starts

    def _census(self, qe: dt.date) -> Rows:
        counts = {p: [0, 0] for p in self.spec.returns.code_values("placement_type")}
        for c in self.children:
            if c.start <= qe and (c.end is None or c.end > qe):
                counts[c.placement][0 if c.in_city else 1] += 1
        return [
            {"placement_type": p, "children_in_city": a, "children_outwith_city": b, "notes": None}
            for p, (a, b) in counts.items()
        ]

    # ------------------------------------------------------------ records
    def _lac_starts(self, starts: list[Child]) -> Rows:
        return [
            {
                "child_ref": c.ref,
                "start_date": c.start,
                "age_at_start": c.age,
                "sex": c.sex,
                "placement_type": c.placement,
                "date_notified_to_health": c.notified if c.csw_notified else None,
            }
            for c in starts
        ]

    def _health_assessments(self, qe: dt.date, cohort: list[Child], dc: dt.date) -> Rows:
        """NHSG rows with H01 steered to the quarter's planned share (see H01_ANCHORS)."""
        rng = self.rng
        share = _interp(H01_ANCHORS, qe)
        if qe not in H01_EXACT:
            share = min(0.98, max(0.05, share + rng.uniform(-0.06, 0.06)))
        rows, eligible, within_fixed = [], [], 0
        for c in cohort:
            ended = c.end if c.end is not None and c.end <= dc else None
            row: dict[str, Any] = {
                "child_ref": c.ref,
                "date_accommodated": c.start,
                "date_notified": c.notified,
                "date_iha": None,
                "date_episode_ended": ended,
                "placement_type": c.placement,
            }
            rows.append(row)
            if ended is not None and (ended - c.start).days <= 28:
                if rng.random() < 0.5:  # some got an assessment before leaving
                    row["date_iha"] = c.start + dt.timedelta(
                        days=rng.randint(0, (ended - c.start).days)
                    )
                continue
            if (dc - c.start).days <= 28:
                if rng.random() < PENDING_SHARE:
                    continue  # pending: blank, 28 days not yet run out
                row["date_iha"] = c.start + dt.timedelta(days=rng.randint(1, (dc - c.start).days))
                within_fixed += 1
                continue
            eligible.append(row)
        denominator = len(eligible) + within_fixed
        k = max(0, round(share * denominator) - within_fixed)
        chosen = set(rng.sample(range(len(eligible)), min(k, len(eligible))))
        for i, row in enumerate(eligible):
            start = row["date_accommodated"]
            if i in chosen:
                row["date_iha"] = start + dt.timedelta(days=rng.randint(3, 28))
            else:
                iha = start + dt.timedelta(days=rng.randint(29, 140))
                last = row["date_episode_ended"] or dc
                row["date_iha"] = iha if iha <= min(dc, last) else None
        return rows

    def _plant_mismatches(
        self, i: int, qe: dt.date, starts: list[Child]
    ) -> tuple[list[Child], list[Child]]:
        """(CSW's starts, NHSG's cohort): equal except for a child missing from one now and
        then — the cross-agency check must find exactly these."""
        csw, nhs = list(starts), list(starts)
        if len(starts) > 2 and i % 4 == 0:
            gone = nhs.pop(self.rng.randrange(len(nhs)))
            self.truth.mismatches.append(
                {
                    "quarter_end": qe,
                    "child_ref": gone.ref,
                    "in_lac_starts": True,
                    "in_health_assessments": False,
                }
            )
        if len(starts) > 2 and i % 5 == 2:
            gone = csw.pop(self.rng.randrange(len(csw)))
            self.truth.mismatches.append(
                {
                    "quarter_end": qe,
                    "child_ref": gone.ref,
                    "in_lac_starts": False,
                    "in_health_assessments": True,
                }
            )
        return csw, nhs

    # ------------------------------------------------------------ items and tables
    def _items(self, values: dict[str, int | None]) -> Rows:
        return [{"item": k, "value": v, "notes": None} for k, v in values.items()]

    def _child_protection(self, qe: dt.date, t: float) -> Rows:
        rng, s = self.rng, self.scale
        lo, hi = 80 * s, 140 * s
        reg = _count(rng, 36 * s, 0.2)
        drift = (110 * s - self.register) * 0.3 + rng.gauss(0, 6 * math.sqrt(s))
        dereg = max(0, round(reg - drift))
        stock = self.register + reg - dereg
        if not lo <= stock <= hi:
            dereg = max(0, self.register + reg - round(min(hi, max(lo, stock))))
            stock = self.register + reg - dereg
        on_register = max(0, stock + rng.choice([0, 0, 0, 1, -1, 2]))  # roughly holds
        self.register = on_register
        icpcc = _count(rng, 30 * s, 0.2)
        conf5 = _count(rng, 70 * s, 0.15)
        return self._items(
            {
                "ird_held": _count(rng, 120 * s, 0.12),
                "icpcc_held": icpcc,
                "icpcc_in_timescale": _part(rng, icpcc, 0.8),
                "registrations": reg,
                "re_registrations_18m": _part(rng, reg, 0.12),
                "deregistrations": dereg,
                "on_register_qe": on_register,
                "conferences_child_5plus": conf5,
                "conferences_views_recorded": _part(rng, conf5, 0.55 + 0.3 * t),
            }
        )

    def _short_breaks(self, qe: dt.date) -> Rows:
        rng = self.rng
        n = _count(rng, 95 * self.scale, 0.05)
        share = _interp(
            [
                (dt.date(2019, 9, 30), 0.62),
                (dt.date(2020, 9, 30), 0.97),
                (dt.date(2021, 3, 31), 1.0),
            ],
            qe,
        )
        return self._items(
            {
                "children_short_breaks_qe": n,
                "plans_reviewed_in_timescale": _part(rng, n, share, 0.02),
            }
        )

    def _care_leavers(self, t: float) -> Rows:
        rng = self.rng
        eligible = _count(rng, 250 * self.scale, 0.04)
        receiving = _part(rng, eligible, 0.6)
        known = _part(rng, receiving, 0.9)
        responses = _count(rng, 20 * self.scale, 0.3)
        return self._items(
            {
                "eligible_aftercare_qe": eligible,
                "in_contact": _part(rng, eligible, 0.7 + 0.12 * t),
                "receiving_aftercare_qe": receiving,
                "known_activity": known,
                "in_eet": _part(rng, known, 0.48 + 0.1 * t),
                "feedback_responses": responses,
                "feedback_positive": _part(rng, responses, 0.72, 0.08),
            }
        )

    def _camhs(self, t: float) -> Rows:
        rng = self.rng
        started = _count(rng, 150 * self.scale, 0.12)
        care = _part(rng, started, 0.1, 0.02)
        return self._items(
            {
                "started_treatment": started,
                "started_within_18wk": _part(rng, started, 0.68 + 0.15 * t, 0.05),
                "waiting_over_18wk_qe": _count(rng, 200 * self.scale * (1.2 - 0.5 * t), 0.1),
                "started_treatment_care_exp": care,
                "started_within_18wk_care_exp": _part(rng, care, 0.7 + 0.15 * t, 0.08),
            }
        )

    def _transitions(self, t: float) -> Rows:
        rng = self.rng
        open_ = _count(rng, 60 * self.scale, 0.08)
        done = _count(rng, 8 * self.scale, 0.3)
        evaluated = _part(rng, done, 0.5 + 0.4 * t, 0.1)
        return self._items(
            {
                "yp_15plus_open": open_,
                "with_transition_plan": _part(rng, open_, 0.6 + 0.3 * t),
                "transitions_completed": done,
                "transitions_evaluated": evaluated,
                "evaluations_positive": _part(rng, evaluated, 0.75, 0.1),
            }
        )

    def _school(self, qe: dt.date, census: Rows, t: float) -> Rows:
        rng = self.rng
        groups = {g: 0 for g in self.spec.returns.code_values("pupil_group")}
        for row in census:
            g = PUPIL_GROUP_OF.get(row["placement_type"], "LAC_RESIDENTIAL")
            if row["placement_type"] == "OTHER_COMMUNITY":
                g = "LAC_KINSHIP"
            groups[g] += row["children_in_city"] + row["children_outwith_city"]
        rows = []
        for g in groups:
            pupils = (
                _count(rng, 26000 * self.scale, 0.01)
                if g == "ALL_PUPILS"
                else round(groups[g] * rng.uniform(0.6, 0.7))
            )
            possible = pupils * SCHOOL_DAYS[qe.month] * 2
            rate = ATTENDANCE.get(g, 0.9) + (0.03 * t if g == "LAC_AT_HOME" else 0.0)
            rows.append(
                {
                    "pupil_group": g,
                    "pupils": pupils,
                    "sessions_possible": possible,
                    "sessions_attended": _part(rng, possible, rate, 0.01),
                    "exclusion_incidents": _count(
                        rng, pupils * EXCLUSIONS_PER_1000.get(g, 10) / 1000 * (1 - 0.3 * t), 0.25
                    ),
                }
            )
        return rows

    # ------------------------------------------------------------ the run
    def run(self) -> Truth:
        """Simulate every quarter; fills `truth.content` for the data submitters."""
        self._seed_population()
        n = len(self.quarters)
        for i, qe in enumerate(self.quarters):
            t = i / max(1, n - 1)  # 0 → 1 across the period
            starts = self._quarter_children(qe)
            csw_starts, nhs_cohort = self._plant_mismatches(i, qe, starts)
            census = self._census(qe)
            dc = self.completed[("NHSG", qe)]
            self.truth.content[("CSW", qe)] = {
                "LAC_Census": census,
                "LAC_Starts": self._lac_starts(csw_starts),
                "Child_Protection": self._child_protection(qe, t),
                "Short_Breaks": self._short_breaks(qe),
                "Care_Leavers": self._care_leavers(t),
            }
            self.truth.content[("NHSG", qe)] = {
                "Health_Assessments": self._health_assessments(qe, nhs_cohort, dc),
                "CAMHS": self._camhs(t),
            }
            self.truth.content[("EDU", qe)] = {"School_Outcomes": self._school(qe, census, t)}
            self.truth.content[("HSCP", qe)] = {"Transitions": self._transitions(t)}
        return self.truth
