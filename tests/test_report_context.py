"""Report context: formatting, key messages written from the figures, public-pack safety."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

import pandas as pd
import pytest

from tests.report_examples import example_inputs
from transforms.reports.chart_text import alt_text
from transforms.reports.context import (
    build_context,
    chart_series,
    fmt_n_of_d,
    fmt_value,
    key_messages,
    measure_message,
    normalised_measures,
    returns_summary,
)
from transforms.reports.inputs import MEASURE_COLUMNS, ReportInputs
from transforms.spec import default_spec

Q1, Q2 = dt.date(2020, 6, 30), dt.date(2020, 9, 30)
# The example's suppressed figures, in any rounding: C04 3 of 41 = 7.317%, H01 at home
# 3 of 7 = 42.857%, H01 away from home 22 of 33 = 66.667%.
SUPPRESSED = re.compile(r"(?<![\d.])(?:7\.3(?:%|\d)|42\.(?:9%|8[56])|66\.(?:7%|66))")


def _measures(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{c: r.get(c) for c in MEASURE_COLUMNS} for r in rows])


@pytest.fixture(scope="module")
def internal_ctx():
    return build_context(example_inputs())


@pytest.fixture(scope="module")
def public_ctx():
    return build_context(example_inputs(public=True))


def _strings(obj) -> list[str]:
    """Every string in a nested context (chart images included by their alt text only)."""
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v)]
    if isinstance(obj, (list, tuple)):
        return [s for v in obj for s in _strings(v)]
    if hasattr(obj, "alt"):
        return [obj.alt]
    return []


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (62.5, "percent", "62.5%"),
        (100 * 2 / 3, "percent", "66.7%"),
        (1234.0, "count", "1,234"),
        (-3.25, "pp", "-3.2 pp"),
        (24.0, "days", "24 days"),
        (24.5, "days", "24.5 days"),
        (12.34, "per_1000", "12.3 per 1,000"),
        (None, "percent", "no data"),
        ("c", "count", "c"),
        (0.0, "count", "0"),
    ],
)
def test_fmt_value(value, unit, text):
    assert fmt_value(value, unit) == text


def test_n_of_d_keeps_the_symbol():
    assert fmt_n_of_d(25.0, 40.0) == "25 of 40"
    assert fmt_n_of_d("c", 41.0) == "c of 41"
    assert fmt_n_of_d(None, 29.0) == "n = 29"  # a median: base only
    assert fmt_n_of_d(None, None) == ""


def test_headline_measure_message_from_figures():
    # Issue 14: key messages now carry only measures off trajectory or target, so H01
    # (Green) is checked through its measure sentence rather than the key messages.
    inputs = example_inputs()
    msg = measure_message(inputs, normalised_measures(inputs), "H01")
    # H01: 25 of 40 = 62.5%, previous quarter 22 of 44 = 50.0%; trajectory reaches the 50%
    # target at the quarter end; 62.5 >= 50 is Green.
    assert msg == (
        "H01 (Initial health assessment within 4 weeks of accommodation) rose to 62.5% "
        "(25 of 40), above the 50.0% trajectory (Green)."
    )


def test_message_for_a_falling_amber_measure():
    ms = _measures(
        [
            {
                "measure_id": "H01",
                "quarter_end": Q1,
                "breakdown": "all",
                "numerator": 30,
                "denominator": 50,
                "value": 60.0,
                "unit": "percent",
                "trajectory": 55.0,
                "target": 50.0,
                "rag": "Green",
            },
            {
                "measure_id": "H01",
                "quarter_end": Q2,
                "breakdown": "all",
                "numerator": 22,
                "denominator": 40,
                "value": 55.0,
                "unit": "percent",
                "trajectory": 57.5,
                "target": 50.0,
                "rag": "Amber",
            },
        ]
    )
    inputs = ReportInputs(quarter_end=Q2, measures=ms)
    msg = measure_message(inputs, normalised_measures(inputs), "H01")
    assert msg == (
        "H01 (Initial health assessment within 4 weeks of accommodation) fell to "
        "55.0% (22 of 40), below the 57.5% trajectory (Amber)."
    )


def test_standing_target_is_called_a_target():
    msgs = key_messages(example_inputs(), normalised_measures(example_inputs()))
    assert any(
        m.startswith(
            "M01 (CAMHS treatment started within 18 weeks) fell to 87.2% "
            "(109 of 125), below the 90.0% target (Amber)"
        )
        for m in msgs
    )


def test_returns_summary_counts():
    expected = pd.DataFrame(
        {
            "code": ["A", "B", "C", "D", "E"],
            "name": list("ABCDE"),
            "kind": ["data"] * 5,
            "status": ["accepted", "accepted with warnings", "rejected", "missing", "accepted"],
            "late": [False, True, "true", False, "false"],
            "received_at": [None] * 5,
        }
    )
    ms = _measures([])
    r = returns_summary(ReportInputs(quarter_end=Q2, measures=ms, expected=expected))
    assert (r["expected"], r["received"], r["late"], r["missing"], r["rejected"]) == (5, 4, 2, 1, 1)
    assert r["text"].startswith("4 of 5 expected returns were received (2 late, 1 rejected).")
    assert "Missing: D." in r["text"]


def test_missing_lead_action_says_so(internal_ctx):
    a42 = next(a for a in internal_ctx["action_plan"] if a["id"] == "4.2")
    assert a42["progress"] == "No update received from IJB (return missing)."
    a33 = next(a for a in internal_ctx["action_plan"] if a["id"] == "3.3")
    assert a33["progress"].startswith("=Workshop held 28/11/2019 & charter agreed")
    assert a33["status"] == "Complete"


def test_internal_context_has_detail(internal_ctx):
    text = "\n".join(_strings(internal_ctx))
    assert "AB12CD34" in text
    assert "Child moved area & was assessed in <Highland>" in text
    assert "7.3%" in text  # C04 3 of 41, visible internally
    assert SUPPRESSED.search(text)


def test_public_context_hides_suppressed_and_child_level(public_ctx):
    text = "\n".join(_strings(public_ctx))
    for leak in ("AB12CD34", "Highland", "3 of 41"):
        assert leak not in text, leak
    assert not SUPPRESSED.search(text)
    assert public_ctx["dq_mismatches"] == [] and public_ctx["dq_warnings"] == []
    assert public_ctx["mismatch_total"] == 1
    assert public_ctx["footnote"] == default_spec().measures.disclosure.footnote
    c04 = next(r for o in public_ctx["outcomes"] for r in o["measures"] if r["id"] == "C04")
    assert (c04["value"], c04["n_of_d"]) == ("c", "c of 41")


def test_public_revisions_show_no_unsuppressed_old_value():
    base = example_inputs(public=True)
    inputs = dataclasses.replace(
        base,
        revisions=pd.DataFrame(
            [
                {
                    "measure_id": "C04",
                    "quarter_end": Q2,
                    "breakdown": "all",
                    "old_value": 9.75,
                    "new_value": 7.317,
                    "issued_version": "v1",
                }
            ]
        ),
    )
    text = "\n".join(_strings(build_context(inputs)["revisions"]))
    assert "9.8" not in text and "7.3" not in text
    assert "c" in build_context(inputs)["revisions"][0]["new"]


def test_chart_series_omits_suppressed_point():
    inputs = example_inputs(public=True)
    s = chart_series(inputs, normalised_measures(inputs), "C04")
    assert s.values[-1] is None and s.suppressed[-1] and s.labels[-1] == "c"
    assert s.values[0] == pytest.approx(100 * 5 / 38)
    text = alt_text(s)
    assert not SUPPRESSED.search(text) and "suppressed" in text
    assert "Q2 2020/21 c" in text


def test_alt_text_describes_series_in_words():
    inputs = example_inputs()
    s = chart_series(inputs, normalised_measures(inputs), "H01")
    text = alt_text(s)
    assert "rose from 30.0% in Q3 2018/19 to 62.5% in Q2 2020/21" in text
    assert "Latest status: Green" in text
    assert "trajectory" in text


def test_measure_without_data_is_blank_not_zero(internal_ctx):
    h02 = next(r for o in internal_ctx["outcomes"] for r in o["measures"] if r["id"] == "H02")
    assert h02["value"] == "no data" and h02["note"]


def test_a_chart_is_drawn_once_per_series_and_a_changed_series_is_drawn_again() -> None:
    from transforms.reports import charts

    s = charts.ChartSeries(
        measure_id="T01",
        name="Test",
        unit_label="%",
        quarters=[Q1, Q2],
        values=[40.0, 50.0],
        labels=["40%", "50%"],
        suppressed=[False, False],
        rags=["Red", "Amber"],
    )
    drawn = []
    real = charts._measure_chart

    def counting(series):
        drawn.append(series)
        return real(series)

    charts._DRAWN.clear()
    try:
        charts._measure_chart = counting
        first = charts.measure_chart(s)
        again = charts.measure_chart(dataclasses.replace(s))  # equal, not the same
        hidden = charts.measure_chart(
            dataclasses.replace(
                s, values=[40.0, None], labels=["40%", "c"], suppressed=[False, True]
            )
        )
    finally:
        charts._measure_chart = real
    assert len(drawn) == 2 and again == first
    assert hidden[0] != first[0] and hidden[0][:8] == b"\x89PNG\r\n\x1a\n"
    assert first == real(s)  # the same bytes as drawn afresh


# ------------------------------------------------------------------ key messages (issue 14)
def _everything_rated(spec):
    """The spec with a standing target on every measure, so each one is rated."""
    measures = [
        m if m.has_target else m.model_copy(update={"standing_target": 1.0})
        for m in spec.measures.measures
    ]
    return spec.model_copy(
        update={"measures": spec.measures.model_copy(update={"measures": measures})}
    )


def test_key_messages_rank_returns_red_amber_milestones_signals_revisions():
    inputs = example_inputs()
    msgs = key_messages(inputs, normalised_measures(inputs))
    assert msgs[0] == (
        "8 of 9 expected returns were received (1 late, 1 rejected). Rejected: HSCP. Missing: IJB."
    )
    # S01 78/86 = 90.7% against a 100% trajectory (Red, gap 9.3); M01 109/125 = 87.2%
    # against the 90% standing target (Amber, gap 2.8); H01 is Green and not listed.
    red = next(i for i, m in enumerate(msgs) if m.startswith("S01 "))
    amber = next(i for i, m in enumerate(msgs) if m.startswith("M01 "))
    assert red < amber
    assert msgs[red].endswith("(Red), a gap of 9.3 percentage points.")
    assert msgs[amber].endswith("(Amber), a gap of 2.8 percentage points.")
    assert not any(m.startswith("H01 (") for m in msgs)
    milestone = next(i for i, m in enumerate(msgs) if m.startswith("Milestones:"))
    assert "S01 100.0% by 30 September 2020 (value 90.7%)" in msgs[milestone]
    assert "missed: Multi-agency workshop" in msgs[milestone]
    assert "(action 3.3, due " in msgs[milestone]  # two milestones may share a text
    signals = [i for i, m in enumerate(msgs) if "run-chart" in m.lower()]
    revisions = [i for i, m in enumerate(msgs) if "revised" in m]
    assert amber < milestone < signals[0] < revisions[0] == len(msgs) - 1
    assert len(signals) == 1 and len(msgs) <= 8


def test_key_messages_stay_at_eight_with_many_measures_off_target():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from tests.report_examples import many_measures_inputs

    inputs = many_measures_inputs(spec=_everything_rated(default_spec()))
    ms = normalised_measures(inputs)
    msgs = key_messages(inputs, ms)
    assert len(msgs) == 8
    # Independently: the quarter's Red and Amber measures, straight from the frame.
    q = ms[(ms["quarter_end"] == Q2) & (ms["breakdown"] == "all")]
    red = set(q.loc[q["rag"] == "Red", "measure_id"])
    amber = set(q.loc[q["rag"] == "Amber", "measure_id"])
    assert len(red) + len(amber) > 5  # more than there is room for
    named = " ".join(msgs)
    for mid in red | amber:
        assert re.search(rf"\b{mid}\b", named), mid  # each is named, if only in the group
    sentences = [m.split(" ")[0] for m in msgs[2:]]
    firsts_red = [s for s in sentences if s in red]
    firsts_amber = [s for s in sentences if s in amber]
    assert firsts_red and all(
        sentences.index(r) < sentences.index(a) for r in firsts_red for a in firsts_amber
    )
    assert any(m.startswith("Also off trajectory or target: ") for m in msgs)
    signal_sentences = [m for m in msgs if "run-chart signal" in m.lower()]
    assert len(signal_sentences) == 1
    assert "a shift (6 or more quarters" in signal_sentences[0]
    assert "a trend (5 or more quarters" in signal_sentences[0]


def test_summary_markdown_carries_the_reports_key_messages():
    from transforms.reports.context import summary_markdown

    inputs = example_inputs()
    text = summary_markdown(inputs)
    for m in key_messages(inputs, normalised_measures(inputs)):
        assert f"- {m}" in text
    assert "- received: 8 of 9 expected" in text and "- missing: 1" in text


def _series(values: list[float]) -> object:
    from transforms.reports import charts

    return charts.ChartSeries(
        measure_id="T01",
        name="Test",
        unit_label="%",
        quarters=[Q1, Q2][: len(values)],
        values=values,
        labels=[f"{v:g}%" for v in values],
        suppressed=[False] * len(values),
        rags=["Red"] * len(values),
    )


def test_charts_drawn_ahead_in_parallel_are_the_charts_drawn_one_by_one(tmp_path) -> None:
    from transforms.reports import charts

    jobs = [("measure", _series([40.0, 50.0])), ("measure", _series([10.0, 90.0]))]
    jobs += [("overview", [jobs[0][1], jobs[1][1]]), jobs[0]]  # a repeat is drawn once
    charts._DRAWN.clear()
    assert charts.draw_ahead(jobs, tmp_path / "cache", processes=2) == 3
    ahead = [charts.measure_chart(jobs[0][1]), charts.overview_chart(jobs[2][1])]
    alone = [charts._measure_chart(jobs[0][1]), charts._overview_chart(jobs[2][1])]
    assert ahead == alone
    assert len(list((tmp_path / "cache").glob("*.png"))) == 3


def test_the_next_run_reads_unchanged_charts_back_and_keeps_only_its_own(
    tmp_path, monkeypatch
) -> None:
    from transforms.reports import charts

    cache = tmp_path / "cache"
    first = [("measure", _series([40.0, 50.0])), ("measure", _series([10.0, 90.0]))]
    charts._DRAWN.clear()
    charts.draw_ahead(first, cache, processes=1)
    expected = charts.measure_chart(first[0][1])

    charts._DRAWN.clear()  # a new process: only the folder remembers
    second = [first[0], ("measure", _series([10.0, 95.0]))]  # one series changed
    assert charts.draw_ahead(second, cache, processes=1) == 1
    assert charts.measure_chart(first[0][1]) == expected
    assert len(list(cache.glob("*.png"))) == 2  # the changed chart's old picture is gone

    charts._DRAWN.clear()  # the drawing code changed: nothing may be reused
    monkeypatch.setattr(charts, "_style_digest", lambda: "another version")
    assert charts.draw_ahead(second, cache, processes=1) == 2


def test_charts_are_lightly_compressed_pngs_with_the_pixels_of_the_default_level(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """zlib level 1 (fast) instead of PIL's default 6: the same image, only the bytes of
    the compression differ."""
    import io

    import numpy as np
    from PIL import Image

    from transforms.reports import charts

    s = charts.ChartSeries(
        measure_id="T02",
        name="Pixels",
        unit_label="%",
        quarters=[Q1, Q2],
        values=[40.0, 55.0],
        labels=["40%", "55%"],
        suppressed=[False, False],
        rags=["Red", "Green"],
    )
    fast, _ = charts._measure_chart(s)
    level = []
    import matplotlib.figure

    savefig = matplotlib.figure.Figure.savefig

    def default_level(self, buf, **kw):
        level.append(kw.pop("pil_kwargs", {}).get("compress_level"))
        return savefig(self, buf, **kw)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", default_level)
    default, _ = charts._measure_chart(s)
    assert level == [1]  # what the charts ask for; this draw used PIL's default
    assert len(fast) > len(default)  # less compressed
    assert np.array_equal(
        np.asarray(Image.open(io.BytesIO(fast))), np.asarray(Image.open(io.BytesIO(default)))
    )


def _crowded_series(n: int = 48) -> Any:
    """A long series whose RAG changes often, so small markers overlap their neighbours."""
    from transforms.quarters import shift_quarters
    from transforms.reports import charts

    rags = ["Green", "Green", "Amber", "Red", "Red", "Not rated", ""]
    values = [None if i % 11 == 5 else 40.0 + (i * 7) % 13 for i in range(n)]
    return charts.ChartSeries(
        measure_id="T03",
        name="Crowded",
        unit_label="%",
        quarters=[shift_quarters(Q1, i) for i in range(n)],
        values=values,
        labels=["x" if v is None else f"{v:.1f}%" for v in values],
        suppressed=[False] * n,
        rags=[rags[i % len(rags)] for i in range(n)],
    )


def test_markers_are_grouped_in_runs_of_one_style_in_point_order() -> None:
    from transforms.reports.charts import RAG_STYLE, _marker_runs

    runs = _marker_runs(
        [0, 1, 2, 3, 4], [1.0, 2.0, None, 4.0, 5.0], ["Green", "Green", "Green", "Green", "Red"]
    )
    assert runs == [
        (RAG_STYLE["Green"], [(0, 1.0), (1, 2.0), (3, 4.0)]),
        (RAG_STYLE["Red"], [(4, 5.0)]),
    ]


def test_markers_drawn_in_runs_give_the_pixels_of_one_marker_per_point(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Grouping is only a saving: overlapping markers still land in point order."""
    from transforms.reports import charts

    s = _crowded_series()
    grouped = [charts._measure_chart(s)[0], charts._overview_chart([s] * 4)[0]]

    def one_per_point(xs: list[int], values: list[float | None], rags: list[str]) -> Any:
        return [
            (charts.RAG_STYLE.get(r, ("o", charts.NAVY, "")), [(x, v)])
            for x, v, r in zip(xs, values, rags, strict=True)
            if v is not None
        ]

    monkeypatch.setattr(charts, "_marker_runs", one_per_point)
    assert [charts._measure_chart(s)[0], charts._overview_chart([s] * 4)[0]] == grouped


def test_a_chart_shows_its_values_without_an_offset_above_the_axis(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The title sits at the top of the axes, where matplotlib would put '+1e4'."""
    from transforms.reports import charts

    drawn: list[Any] = []
    png = charts._png
    monkeypatch.setattr(charts, "_png", lambda fig: (drawn.append(fig), png(fig))[1])
    s = dataclasses.replace(
        _crowded_series(4), values=[10000.1, 10000.2, 10000.3, 10000.4], unit_label="days"
    )
    charts._measure_chart(s)
    charts._overview_chart([s])
    for fig in drawn:
        assert all(ax.yaxis.get_offset_text().get_text() == "" for ax in fig.axes)
        labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
        assert any(label.startswith("10000") for label in labels), labels


def test_headline_series_from_one_pass_are_each_measures_chart_series() -> None:
    """The grouped pass gives, in the order asked, what one selection per measure gives."""
    from transforms.reports.context import headline_series, measure_ids

    for public in (False, True):
        inputs = example_inputs(public=public)
        ms = normalised_measures(inputs)
        ids = measure_ids(inputs, ms) + ["NOT-A-MEASURE"]
        one_by_one = {mid: s for mid in ids if (s := chart_series(inputs, ms, mid)) is not None}
        assert one_by_one  # the example has series to draw
        grouped = headline_series(inputs, ms, ids)
        assert list(grouped) == list(one_by_one)
        assert grouped == one_by_one


def test_titles_placed_at_the_top_land_where_matplotlib_would_place_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Placing the titles only skips matplotlib's search for a place: the same pixels."""
    import matplotlib.axes

    from transforms.reports import charts

    s = _crowded_series(13)
    placed = [charts._measure_chart(s)[0], charts._overview_chart([s] * 4)[0]]
    set_title = matplotlib.axes.Axes.set_title
    seen: list[object] = []

    def left_to_matplotlib(self, label, *args, **kwargs):
        seen.append(kwargs.pop("y", None))
        return set_title(self, label, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "set_title", left_to_matplotlib)
    assert [charts._measure_chart(s)[0], charts._overview_chart([s] * 4)[0]] == placed
    assert set(seen) == {1.0}  # every title was placed, and this draw left them to matplotlib
