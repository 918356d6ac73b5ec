"""Checking workbooks: pre-flight, parse, GX suites, pandas rules → one `ParsedReturn` each.

`check_workbook` is what intake calls per file; `check_workbooks` does the same for many files
and validates all frames of one sheet type in ONE Great Expectations run (frames are
concatenated with a `source` column; uniqueness expectations are per source), which is what
keeps thousands of workbooks near the cost of reading them.

Isolation: pre-flight bounds what a parser can be made to read. With `sandbox=Sandbox(...)`
(what intake and `datasummary check` pass) one child process parses a batch's files one after
another under a wall-clock timeout per file and an address-space limit (`intake.sandbox`), so
even a native crash costs one file; without it, parsing is in-process.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from transforms.catalogue import make_finding
from transforms.findings import Finding, ParsedReturn
from transforms.forked import available_cores, forked_map
from transforms.intake import cells
from transforms.intake.parse import Parsed, london_today, parse_workbook
from transforms.intake.preflight import DEFAULT_LIMITS, Limits
from transforms.intake.reading import SandboxedReading, read_one
from transforms.intake.rules import NoPriorData, PriorData, sheet_rules
from transforms.intake.sandbox import INTAKE_SANDBOX, Sandbox
from transforms.intake.suites import build_suites, load_suite_files, quarter_column
from transforms.progress import CHECKING, READING, Progress, no_progress
from transforms.spec import Spec, default_spec

__all__ = [
    "INTAKE_SANDBOX",
    "NoPriorData",
    "PriorData",
    "Sandbox",
    "check_workbook",
    "check_workbooks",
    "run_suite",
]

log = logging.getLogger(__name__)

# Findings from reading a cell make GX findings on the same cell redundant.
_CELL_CODES = {"V-COUNT", "V-INT", "V-DATE", "V-FORMULA-NO-VALUE", "V-EXCEL-ERROR"}


def check_workbook(
    path: Path,
    *,
    spec: Spec | None = None,
    today: dt.date | None = None,
    prior: PriorData | None = None,
    original_name: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    sandbox: Sandbox | None = None,
) -> ParsedReturn:
    """One workbook checked per the specification; never raises on bad input.

    `today` (default: today in Europe/London) bounds "Date completed"; `prior` supplies last
    quarter for cross-quarter rules (default: none, so those rules are skipped);
    `original_name` is the submitter's file name when `path` is an archived copy.
    """
    return check_workbooks(
        [(Path(path), original_name)],
        spec=spec,
        today=today,
        prior=prior,
        limits=limits,
        sandbox=sandbox,
    )[0]


def check_workbooks(
    files: Iterable[Path | tuple[Path, str | None]],
    *,
    spec: Spec | None = None,
    today: dt.date | None = None,
    prior: PriorData | None = None,
    limits: Limits = DEFAULT_LIMITS,
    sandbox: Sandbox | None = None,
) -> list[ParsedReturn]:
    """Many workbooks checked, in the order given, with one GX run per sheet type.

    Every workbook's rules see the same `prior`. Intake, which must let each file see the
    ones filed before it, calls the two halves itself (`gx_checked_workbooks`, then
    `rules_checked` file by file).
    """
    spec = spec or default_spec()
    prior = prior or NoPriorData()
    parsed = gx_checked_workbooks(files, spec=spec, today=today, limits=limits, sandbox=sandbox)
    return [rules_checked(p, spec=spec, prior=prior) for p in parsed]


def gx_checked_workbooks(
    files: Iterable[Path | tuple[Path, str | None]],
    *,
    spec: Spec | None = None,
    today: dt.date | None = None,
    limits: Limits = DEFAULT_LIMITS,
    sandbox: Sandbox | None = None,
    progress: Progress = no_progress,
    ahead: SandboxedReading | None = None,
) -> list[Parsed]:
    """The first half of checking: pre-flight, parse and the GX suites, for many workbooks.

    Nothing here depends on the store, so workbooks of different partnerships (different
    stores) can share one GX run per sheet type; `rules_checked` finishes each workbook
    against its own store. `progress` is told of each workbook read and each sheet checked.
    With `ahead` (a `read_ahead` that suits these settings) what it has read already is
    taken from it and the rest is read by its children.
    """
    spec = spec or default_spec()
    today = today or london_today()
    items = [(i, None) if isinstance(i, Path) else (Path(i[0]), i[1]) for i in files]
    progress(READING, 0, len(items))
    if sandbox is None:
        read: Callable[..., Parsed] = functools.partial(
            parse_workbook, spec=spec, today=today, limits=limits
        )
        parsed: list[Parsed] = []
        for path, name in items:
            parsed.append(read_one(path, name, limits, read))
            progress(READING, len(parsed), len(items))
    else:

        def done(n: int) -> None:
            progress(READING, n, len(items))

        if ahead is not None and ahead.suits(spec, today, limits, sandbox):
            parsed = ahead.parsed(items, done)
        else:
            processes = min(available_cores(), len(items))
            with _sandboxed_reading(spec, today, limits, sandbox, processes) as reading:
                parsed = reading.parsed(items, done)
    _gx_stage(parsed, spec, progress)
    return parsed


def read_ahead(
    spec: Spec | None, today: dt.date, *, limit: int, sandbox: Sandbox = INTAKE_SANDBOX
) -> SandboxedReading:
    """Sandboxed children for intake to offer files to as it archives them (a context
    manager), reading them as `gx_checked_workbooks` with these settings would."""
    return _sandboxed_reading(
        spec or default_spec(), today, DEFAULT_LIMITS, sandbox, available_cores(), limit=limit
    )


def _sandboxed_reading(
    spec: Spec,
    today: dt.date,
    limits: Limits,
    sandbox: Sandbox,
    processes: int,
    limit: int | None = None,
) -> SandboxedReading:
    """Pre-flight and parse in sandboxed children, one per available core, while this
    process loads GX (seconds) on a thread: the two overlap instead of adding up."""
    read = functools.partial(parse_workbook, spec=spec, today=today, limits=limits)
    warm = functools.partial(_gx_suites, spec)
    config = (spec, today, limits, sandbox)
    return SandboxedReading(config, read, processes, warm=warm, limit=limit)


def rules_checked(
    parsed: Parsed, *, spec: Spec | None = None, prior: PriorData | None = None
) -> ParsedReturn:
    """The second half: the pandas rules, cross-quarter ones against `prior`."""
    _rules_stage(parsed, spec or default_spec(), prior or NoPriorData())
    return parsed.result


# ---------------------------------------------------------------- Great Expectations
_GX_CACHE: dict[int, tuple[Any, dict[str, Any]]] = {}


def import_gx() -> Any:
    """Great Expectations, imported with its analytics off: it must not call home."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    return gx


def _gx_suites(spec: Spec) -> tuple[Any, dict[str, Any]]:
    """(batch definition, suites by sheet) in an ephemeral context, built once per process.

    The default spec uses the committed `expectations/*.json`; another spec gets suites built
    from it. Every loaded suite must keep every expectation (GX drops invalid ones silently).
    """
    key = id(spec)
    if key in _GX_CACHE:
        return _GX_CACHE[key]
    gx = import_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    source = context.data_sources.add_pandas("returns")
    batch_def = source.add_dataframe_asset("sheet").add_batch_definition_whole_dataframe("all")
    raw = load_suite_files() if spec is default_spec() else build_suites(spec)
    suites = {}
    for name, data in raw.items():
        suite = gx.ExpectationSuite(**data)
        if len(suite.expectations) != len(data["expectations"]):
            raise RuntimeError(f"GX dropped expectations from suite {name}")
        suites[name] = suite
    _GX_CACHE[key] = (batch_def, suites)
    return _GX_CACHE[key]


def validation_frame(parsed: list[Parsed], sheet: str, spec: Spec) -> pd.DataFrame:
    """Every workbook's typed frame of `sheet`, stacked, plus what the suite compares with.

    `source` is the workbook's position in `parsed`; each row also carries its Cover's
    quarter end and date completed, and each inside-quarter date its quarter's end. The
    stacking comes first and the added columns are built once for all rows.
    """
    frames, sources, ends, done = [], [], [], []
    for i, p in enumerate(parsed):
        frame = p.result.sheets.get(sheet)
        if frame is None:
            continue
        cover = p.result.cover
        frames.append(frame)
        sources.append(str(i))
        ends.append(cover.quarter_end.isoformat() if cover.quarter_end else None)
        done.append(
            np.datetime64(cover.date_completed, "D")
            if cover.date_completed
            else np.datetime64("NaT")
        )
    sizes = [len(f) for f in frames]
    out = pd.concat(frames, ignore_index=True)
    source = pd.array(np.repeat(np.array(sources, dtype=object), sizes), dtype="str")
    out.insert(0, "source", source)  # type: ignore[arg-type]  # the stubs omit ExtensionArray
    out["quarter_end"] = pd.array(np.repeat(np.array(ends, dtype=object), sizes), dtype="str")
    out["cover_date_completed"] = np.repeat(np.array(done, dtype="datetime64[ns]"), sizes)
    for column in spec.returns.sheet_columns(sheet):
        if column.inside_quarter:
            q_end = out[column.name].dt.to_period("Q-DEC").dt.end_time
            out[quarter_column(column.name)] = q_end.dt.strftime("%Y-%m-%d").astype("str")
    return out


def run_suite(sheet: str, frame: pd.DataFrame, spec: Spec | None = None) -> pd.DataFrame:
    """Failures of one sheet's suite: one row per (source, excel_row, rule).

    `frame` may hold many workbooks' rows (distinguished by `source`). Columns: source,
    excel_row, rule, severity (error/warning), column, expected, detail. Values found are
    not returned (they may be child-level); take them from the frame by row.
    """
    columns = ["source", "excel_row", "rule", "severity", "column", "expected", "detail"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    batch_def, suites = _gx_suites(spec or default_spec())
    batch = batch_def.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(
        suites[sheet],
        result_format={
            "result_format": "COMPLETE",
            "unexpected_index_column_names": ["source", "excel_row"],
            "exclude_unexpected_values": True,
            "return_unexpected_index_query": False,
            "partial_unexpected_count": 0,
        },
    )
    rows = []
    for res in result.results:
        info = res.exception_info or {}
        if info.get("raised_exception"):
            raise RuntimeError(
                f"GX expectation {res.expectation_config.type} on {sheet} "
                f"failed to run: {info.get('exception_message')}"
            )
        if res.success:
            continue
        meta = res.expectation_config.meta or {}
        severity = (
            "warning"
            if str(res.expectation_config.severity).lower().endswith("warning")
            else "error"
        )
        for src, row in _index_pairs(res.result.get("unexpected_index_list") or []):
            rows.append(
                {
                    "source": src,
                    "excel_row": row,
                    "rule": meta["rule"],
                    "severity": severity,
                    "column": meta.get("column"),
                    "expected": meta.get("expected"),
                    "detail": meta.get("detail"),
                }
            )
    return pd.DataFrame(rows, columns=columns)


def _index_pairs(index_list: list[Any]) -> list[tuple[str, int]]:
    """(source, excel_row) pairs from GX's unexpected index list, whichever shape it takes."""
    pairs: list[tuple[str, int]] = []
    for entry in index_list:
        src, row = entry["source"], entry["excel_row"]
        if isinstance(row, list):
            pairs.extend((str(s), int(r)) for s, r in zip(src, row, strict=True))
        else:
            pairs.append((str(src), int(row)))
    return pairs


def _gx_stage(parsed: list[Parsed], spec: Spec, progress: Progress = no_progress) -> None:
    """One GX run per sheet type over every workbook's frame; findings go to each workbook.

    The sheets' runs are independent, so they are spread over the cores in forked children
    (the suites are built here first, for the children to inherit); the findings are then
    added in the sheets' order, as if the runs had been one after another.
    """
    sheets = list(dict.fromkeys(sheet for p in parsed for sheet in p.result.sheets))
    progress(CHECKING, 0, len(sheets))
    with contextlib.suppress(Exception):  # a GX that cannot load fails each sheet below
        _gx_suites(spec)
    sizes = {s: sum(len(p.result.sheets.get(s, ())) for p in parsed) for s in sheets}
    longest_first = sorted(sheets, key=lambda s: -sizes[s])
    outcomes = dict(
        zip(
            longest_first,
            forked_map(functools.partial(_sheet_failures, parsed, spec), longest_first),
            strict=True,
        )
    )
    for n, sheet in enumerate(sheets):
        failures, fault = outcomes[sheet]
        if failures is None:
            log.error("GX validation of %s failed: %s", sheet, fault)
            for p in parsed:
                if sheet in p.result.sheets:
                    p.result.findings.append(
                        make_finding(
                            "P-UNREADABLE",
                            detail=f"the checks on sheet {sheet} could not be completed",
                        )
                    )
        else:
            rows: list[Any] = list(failures.itertuples(index=False))  # named tuples
            for failure in rows:
                p = parsed[int(failure.source)]
                finding = _gx_finding(p, sheet, failure)
                if finding is not None:
                    p.result.findings.append(finding)
        progress(CHECKING, n + 1, len(sheets))


def _sheet_failures(
    parsed: list[Parsed], spec: Spec, sheet: str
) -> tuple[pd.DataFrame | None, str]:
    """(`run_suite`'s failures for `sheet`, "") or (None, the fault's type) if it raised.

    A fault is an answer, not an exception, so that one sheet's fault in a child costs
    that sheet only, never its sibling's share of the work.
    """
    try:
        return run_suite(sheet, validation_frame(parsed, sheet, spec), spec), ""
    except Exception as exc:  # noqa: BLE001 - a checking fault must reject, not crash
        return None, type(exc).__name__


def _gx_finding(p: Parsed, sheet: str, failure: Any) -> Finding | None:
    """A located finding for one GX failure, or None when another finding already covers it."""
    layout = p.layouts[sheet]
    row, column = int(failure.excel_row), failure.column
    if column in layout.missing:
        return None
    if any(
        f.rule in _CELL_CODES and f.sheet == layout.title and f.row == row and f.column == column
        for f in p.result.findings
    ):
        return None
    raw = p.raw_values.get(sheet, {}).get((row, column))
    return make_finding(
        failure.rule,
        severity=failure.severity,
        sheet=layout.title,
        cell=layout.cell(column, row),
        row=row,
        column=column,
        value=cells.display(raw),
        expected=failure.expected,
        detail=failure.detail,
    )


# ---------------------------------------------------------------- pandas rules
def _rules_stage(p: Parsed, spec: Spec, prior: PriorData) -> None:
    """Pandas rules per sheet; a cell already in error gets no second finding.

    A count typed "NA" reads as no value: it is reported once, as the error it is, not again
    as a blank value missing its note.
    """
    errored = {(f.sheet, f.cell) for f in p.result.findings if f.severity == "error" and f.cell}
    for sheet, frame in p.result.sheets.items():
        try:
            p.result.findings.extend(
                f
                for f in sheet_rules(sheet, frame, p.layouts[sheet], spec, p.result.cover, prior)
                if not (f.cell and (f.sheet, f.cell) in errored)
            )
        except Exception as exc:  # noqa: BLE001 - a checking fault must reject, not crash
            log.error("rules on %s failed: %s", sheet, type(exc).__name__)
            p.result.findings.append(
                make_finding(
                    "P-UNREADABLE", detail=f"the checks on sheet {sheet} could not be completed"
                )
            )
