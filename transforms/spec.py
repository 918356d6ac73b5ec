"""The plan, the return specification and the measure definitions, loaded from `spec/*.yaml`.

These files are the single declaration of what a return holds and what the report measures;
every other module reads them through the models here, so a change to a column, an item or a
target is a change to data only. Loading validates cross-references (a measure's sheet and
items exist, an action's lead is a submitter) so a typo fails at start-up, not mid-report.
"""

from __future__ import annotations

import datetime as dt
import os
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from transforms.resources import data_path

SPEC_DIR_ENV = "DATASUMMARY_SPEC_DIR"


def spec_dir() -> Path:
    """The folder holding the spec YAML files (overridable for tests and other partnerships)."""
    override = os.environ.get(SPEC_DIR_ENV)
    return Path(override) if override else data_path("spec")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- return specification
class Code(_Model):
    code: str
    label: str
    group: str | None = None


class Column(_Model):
    name: str
    type: Literal["text", "code", "count", "int", "date", "child_ref", "item", "action_id"]
    codes: str | None = None
    required: bool = True  # the column must be present
    required_value: bool = True  # each row must have a value
    min: int | None = None
    max: int | None = None
    inside_quarter: bool = False
    le: str | None = None  # value <= this column (skipped when either is blank)
    description: str | None = None


class DateRule(_Model):
    code: str
    column: str
    severity: Literal["error", "warning"] = "error"
    not_before: str | None = None
    not_after_cover: str | None = None
    max_days_after: dict[str, Any] | None = None


class Item(_Model):
    item: str
    description: str
    le: str | None = None


class RegisterContinuity(_Model):
    stock: str
    inflow: str
    outflow: str
    min_abs: int
    min_rel: float


class Sheet(_Model):
    kind: Literal["table", "records", "items", "progress"]
    title: str
    key: str | None = None
    columns: list[Column] = Field(default_factory=list)
    items: list[Item] = Field(default_factory=list)
    date_rules: list[DateRule] = Field(default_factory=list)
    register_continuity: RegisterContinuity | None = None


class Submitter(_Model):
    code: str
    kind: Literal["data", "lead"]
    name: str
    sheets: list[str]


class CoverField(_Model):
    key: str
    label: str
    type: str


class Cover(_Model):
    sheet: str
    fields: list[CoverField]


class Periods(_Model):
    quarter_end_month_days: list[tuple[int, int]]
    deadline_days: int
    timezone: str


class Records(_Model):
    child_ref_pattern: str
    chi_pattern: str
    identifier_header_words: list[str]


class ReturnSpec(_Model):
    version: int
    template_version: int
    periods: Periods
    codes: dict[str, list[Code]]
    submitters: list[Submitter]
    cover: Cover
    sheets: dict[str, Sheet]
    items_columns: list[Column]
    records: Records
    statuses: list[str]

    @model_validator(mode="after")
    def _cross_refs(self) -> ReturnSpec:
        for sub in self.submitters:
            for name in sub.sheets:
                if name not in self.sheets:
                    raise ValueError(f"submitter {sub.code} names unknown sheet {name}")
        for name, sheet in self.sheets.items():
            for col in sheet.columns:
                if col.type == "code" and col.codes not in self.codes:
                    raise ValueError(f"{name}.{col.name} names unknown code list {col.codes}")
            names = {i.item for i in sheet.items}
            for item in sheet.items:
                if item.le and item.le not in names:
                    raise ValueError(f"{name}.{item.item} compares with unknown item {item.le}")
        return self

    def submitter(self, code: str) -> Submitter:
        """The submitter with this code (exact, upper-case)."""
        for sub in self.submitters:
            if sub.code == code:
                return sub
        raise KeyError(code)

    def code_values(self, list_name: str) -> list[str]:
        """The codes of one code list, in declared order."""
        return [c.code for c in self.codes[list_name]]

    def sheet_columns(self, sheet_name: str) -> list[Column]:
        """The columns of a sheet; items sheets share `items_columns`."""
        sheet = self.sheets[sheet_name]
        return list(self.items_columns) if sheet.kind == "items" else list(sheet.columns)

    def sheet_owner(self, sheet_name: str) -> str:
        """The code of the data submitter that sends this sheet (Progress: any lead)."""
        for sub in self.submitters:
            if sheet_name in sub.sheets:
                return sub.code
        raise KeyError(sheet_name)


# ---------------------------------------------------------------- the action plan
class Outcome(_Model):
    id: str
    short: str
    aim: str
    question: str


class Action(_Model):
    id: str
    outcome: str
    driver_short: str
    driver: str
    aim: str
    measures_text: str
    leads: str
    update_from: str | None


class Milestone(_Model):
    id: str
    action: str
    due: dt.date
    text: str
    recurring: Literal["yearly"] | None = None


class Plan(_Model):
    title: str
    partnership: str
    partnership_long: str
    plan_period: str
    first_quarter: dt.date
    protective_marking: str
    public_marking: str
    outcomes: list[Outcome]
    actions: list[Action]
    milestones: list[Milestone]

    @model_validator(mode="after")
    def _cross_refs(self) -> Plan:
        outcome_ids = {o.id for o in self.outcomes}
        action_ids = {a.id for a in self.actions}
        for a in self.actions:
            if a.outcome not in outcome_ids:
                raise ValueError(f"action {a.id} names unknown outcome {a.outcome}")
        for m in self.milestones:
            if m.action not in action_ids:
                raise ValueError(f"milestone {m.id} names unknown action {m.action}")
        return self

    def actions_for(self, lead_code: str) -> list[Action]:
        """The actions whose progress update this lead sends, in plan order."""
        return [a for a in self.actions if a.update_from == lead_code]

    def action(self, action_id: str) -> Action:
        """One action by id."""
        for a in self.actions:
            if a.id == action_id:
                return a
        raise KeyError(action_id)


# ---------------------------------------------------------------- measures
class TargetPoint(_Model):
    date: dt.date
    value: float


class MeasureDef(_Model):
    model_config = ConfigDict(extra="allow", frozen=True)

    id: str
    action: str
    name: str
    kind: str
    sheet: str
    unit: Literal["percent", "count", "pp", "per_1000", "days"]
    direction: Literal["up", "down", "ctx"]
    targets: list[TargetPoint] = Field(default_factory=list)
    standing_target: float | None = None
    tolerance: float | None = None
    baseline_quarter: dt.date | None = None
    breakdowns: list[str] = Field(default_factory=list)
    source: Literal["seed", "biu"]
    definition: str
    bi_definition: str | None = None

    @property
    def has_target(self) -> bool:
        """Whether RAG applies (a dated trajectory or a standing target)."""
        return bool(self.targets) or self.standing_target is not None

    def param(self, name: str, default: Any = None) -> Any:
        """A kind-specific parameter declared in the YAML (numerator, item, columns…)."""
        return (self.model_extra or {}).get(name, default)


class RunChart(_Model):
    min_points: int
    shift_length: int
    trend_length: int


class Defaults(_Model):
    tolerance_pp: float
    small_base: int
    stable_pp: float
    stable_rel: float
    run_chart: RunChart


class Disclosure(_Model):
    min_count: int
    max_count: int
    symbol: str
    #: May name `{symbol}`, `{min_count}` and `{max_count}`: the published explanation then
    #: follows the rule when the rule changes.
    footnote: str

    @field_validator("footnote")
    @classmethod
    def _footnote_from_the_rule(cls, text: str, info: ValidationInfo) -> str:
        return text.format(**{k: info.data[k] for k in ("symbol", "min_count", "max_count")})


class MeasureSpec(_Model):
    version: int
    defaults: Defaults
    disclosure: Disclosure
    measures: list[MeasureDef]

    def measure(self, measure_id: str) -> MeasureDef:
        """One measure definition by id."""
        for m in self.measures:
            if m.id == measure_id:
                return m
        raise KeyError(measure_id)

    def tolerance(self, m: MeasureDef) -> float:
        """The measure's RAG tolerance, or the default."""
        return m.tolerance if m.tolerance is not None else self.defaults.tolerance_pp


class Spec(_Model):
    """Everything declared as data, cross-checked as one."""

    returns: ReturnSpec
    plan: Plan
    measures: MeasureSpec

    @model_validator(mode="after")
    def _cross_refs(self) -> Spec:
        codes = {s.code for s in self.returns.submitters if s.kind == "lead"}
        for a in self.plan.actions:
            if a.update_from is not None and a.update_from not in codes:
                raise ValueError(f"action {a.id}: update_from {a.update_from} is not a lead")
        action_ids = {a.id for a in self.plan.actions}
        for m in self.measures.measures:
            if m.action not in action_ids:
                raise ValueError(f"measure {m.id} names unknown action {m.action}")
            if m.sheet not in self.returns.sheets:
                raise ValueError(f"measure {m.id} names unknown sheet {m.sheet}")
            sheet = self.returns.sheets[m.sheet]
            items = {i.item for i in sheet.items}
            for key in ("numerator", "denominator", "item"):
                val = m.param(key)
                if sheet.kind == "items" and isinstance(val, str) and val not in items:
                    raise ValueError(f"measure {m.id}: {key} {val} is not an item of {m.sheet}")
        return self


def _read_yaml(path: Path) -> dict[str, Any]:
    """A spec file, read with libyaml's safe loader where installed (ten times faster)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.load(fh, Loader=loader)  # noqa: S506 - a safe loader either way
    return data


def load_spec(directory: Path | None = None) -> Spec:
    """Read and validate the three spec files from `directory` (default: `spec_dir()`)."""
    d = directory or spec_dir()
    return Spec(
        returns=ReturnSpec(**_read_yaml(d / "returns.yaml")),
        plan=Plan(**_read_yaml(d / "plan.yaml")),
        measures=MeasureSpec(**_read_yaml(d / "measures.yaml")),
    )


@cache
def default_spec() -> Spec:
    """The spec from the default folder, loaded once per process."""
    return load_spec()
