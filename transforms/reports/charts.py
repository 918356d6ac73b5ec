"""Run charts for the report: one per measure with a series, and an overview page.

Charts are PNG bytes plus alt text in words, so the Word report can embed them with a
description a screen reader speaks. They must read in greyscale (RAG is shown by marker
shape and a word, not colour alone) and be byte-identical for the same data (fixed size and
dpi, no software or date metadata). Suppressed values are never plotted: the caller passes
them as `None` with `suppressed=True`, and the chart only marks the quarter with the symbol.
matplotlib is imported inside the functions (it is slow to import and only reports need it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import textwrap
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transforms.quarters import quarter_short
from transforms.reports.chart_text import alt_text

NAVY = "#1B365D"
TEAL = "#00797C"
GREY = "#5F6B73"
RAG_STYLE = {  # marker, colour, word: shape and word carry the status without colour
    "Green": ("o", "#2E7D32", "Green"),
    "Amber": ("D", "#E69F00", "Amber"),
    "Red": ("s", "#C62828", "Red"),
    "Not rated": ("X", "#5F6B73", "Not rated"),
}
DPI = 150
_RC: dict[Any, Any] = {
    "svg.hashsalt": "datasummary",
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    # No "+1e4" above the y axis: readers need the values, and the titles sit there.
    "axes.formatter.useoffset": False,
}
_PNG_METADATA = {"Software": None}


@dataclass(frozen=True)
class ChartSeries:
    """One measure's headline series, already formatted and disclosure-controlled."""

    measure_id: str
    name: str
    unit_label: str  # y-axis label: "%", "days", "percentage points"
    quarters: list[dt.date]
    values: list[float | None]  # None: blank or suppressed
    labels: list[str]  # formatted values ("62.5%", "c", "no data")
    suppressed: list[bool]
    rags: list[str]
    trajectory: list[float | None] = field(default_factory=list)
    milestones: list[tuple[dt.date, float, str]] = field(default_factory=list)  # date, v, label
    standing_target: tuple[float, str] | None = None  # value, label
    symbol: str = "c"

    @property
    def plotted(self) -> int:
        """How many quarters have a value that can be drawn."""
        return sum(v is not None for v in self.values)


def _x_axis(s: ChartSeries) -> list[dt.date]:
    """The series' quarters, extended to the next milestone up to four quarters ahead."""
    from transforms.quarters import quarter_end_for, shift_quarters

    quarters = list(s.quarters)
    if not quarters:
        return quarters
    ahead = [quarter_end_for(d) for d, _, _ in s.milestones if quarter_end_for(d) > quarters[-1]]
    if ahead:
        nxt = min(ahead)
        q = quarters[-1]
        while q < nxt and len(quarters) < len(s.quarters) + 4:
            q = shift_quarters(q, 1)
            quarters.append(q)
    return quarters


def _draw(ax: Any, s: ChartSeries, small: bool = False) -> None:
    """Draw one series on `ax` (shared by the single chart and the overview), layer by
    layer in a fixed order so the same series gives the same picture."""
    axis = list(s.quarters) if small else _x_axis(s)
    xs = list(range(len(s.quarters)))
    _draw_values(ax, s, xs, small)
    _draw_references(ax, s, xs)
    _draw_milestones(ax, s, axis, small)
    _draw_suppressed(ax, s, xs)
    _label_last(ax, s, small)
    _x_ticks(ax, axis, small)
    ax.grid(axis="y", color="#D9D9D9", linewidth=0.6)
    ax.set_axisbelow(True)
    lo, hi = ax.get_ylim()
    if s.unit_label == "%":
        ax.set_ylim(max(0.0, min(lo, 0.0)), max(hi * 1.08, 10.0))
    ax.margins(y=0.15)


def _draw_values(ax: Any, s: ChartSeries, xs: list[int], small: bool) -> None:
    """The value line, and a marker per value shaped and coloured by its RAG."""
    ax.plot(
        xs,
        [float("nan") if v is None else v for v in s.values],
        color=NAVY,
        linewidth=1.6,
        zorder=2,
        label="Value",
    )
    for style, run in _marker_runs(xs, s.values, s.rags):
        marker, colour, _ = style
        ax.plot(
            [x for x, _ in run],
            [v for _, v in run],
            marker=marker,
            color=colour,
            markeredgecolor="black",
            markeredgewidth=0.6,
            markersize=4 if small else 6,
            linestyle="none",
            zorder=3,
        )


def _marker_runs(
    xs: list[int], values: list[float | None], rags: list[str]
) -> list[tuple[tuple[str, str, str], list[tuple[int, float]]]]:
    """The plotted points in order, in runs of one RAG style: a line of markers per run draws
    the pixels of one per point (in point order either way) for a fraction of the cost."""
    runs: list[tuple[tuple[str, str, str], list[tuple[int, float]]]] = []
    for x, v, rag in zip(xs, values, rags, strict=True):
        if v is None:
            continue
        style = RAG_STYLE.get(rag, ("o", NAVY, ""))
        if runs and runs[-1][0] == style:
            runs[-1][1].append((x, v))
        else:
            runs.append((style, [(x, v)]))
    return runs


def _draw_references(ax: Any, s: ChartSeries, xs: list[int]) -> None:
    """The trajectory (dashed, where it has values) and the standing target line."""
    if s.trajectory and any(t is not None for t in s.trajectory):
        ax.plot(
            xs,
            [float("nan") if t is None else t for t in s.trajectory],
            color=GREY,
            linestyle="--",
            linewidth=1.2,
            zorder=1,
            label="Trajectory",
        )
    if s.standing_target is not None:
        ax.axhline(
            s.standing_target[0],
            color=GREY,
            linestyle="--",
            linewidth=1.2,
            zorder=1,
            label=s.standing_target[1],
        )


def _draw_milestones(ax: Any, s: ChartSeries, axis: list[dt.date], small: bool) -> None:
    """A star at each target milestone on the axis, labelled on the single chart."""
    from transforms.quarters import quarter_end_for

    pos = {q: i for i, q in enumerate(axis)}
    for d, v, label in s.milestones:
        x = pos.get(quarter_end_for(d))
        if x is None:
            continue
        ax.plot(
            [x],
            [v],
            marker="*",
            color=TEAL,
            markeredgecolor="black",
            markersize=7 if small else 11,
            linestyle="none",
            zorder=4,
        )
        if not small:
            end = x == len(axis) - 1
            ax.annotate(
                label,
                (x, v),
                textcoords="offset points",
                xytext=(6 if end else 0, -15),
                ha="right" if end else "center",
                fontsize=7,
                color="black",
            )


def _draw_suppressed(ax: Any, s: ChartSeries, xs: list[int]) -> None:
    """The suppression symbol at the foot of each quarter whose value is hidden."""
    for x, sup in zip(xs, s.suppressed, strict=True):
        if sup:
            ax.annotate(
                s.symbol,
                (x, 0),
                xycoords=("data", "axes fraction"),
                textcoords="offset points",
                xytext=(0, 3),
                ha="center",
                fontsize=8,
                style="italic",
                color=GREY,
            )


def _label_last(ax: Any, s: ChartSeries, small: bool) -> None:
    """The latest value with its RAG in words, so the picture is read without colour."""
    last = max((i for i, v in enumerate(s.values) if v is not None), default=None)
    if last is None:
        return
    word = RAG_STYLE.get(s.rags[last], (None, None, ""))[2]
    text = s.labels[last] + (f" ({word})" if word else "")
    ax.annotate(
        text,
        (last, s.values[last]),
        textcoords="offset points",
        xytext=(-6, 6),
        ha="right",
        fontsize=6 if small else 8,
        fontweight="bold",
    )


def _x_ticks(ax: Any, axis: list[dt.date], small: bool) -> None:
    """Every quarter on the single chart; first and last only on the small multiples."""
    ax.set_xlim(-0.5, len(axis) - 0.5)
    if small:
        ticks = sorted({0, len(axis) - 1})
        ax.set_xticks(ticks)
        ax.set_xticklabels([quarter_short(axis[i]) for i in ticks], fontsize=6)
        for lab, ha in zip(ax.get_xticklabels(), ("left", "right"), strict=False):
            lab.set_horizontalalignment(ha)
    else:
        ax.set_xticks(list(range(len(axis))))
        ax.set_xticklabels([quarter_short(q) for q in axis], rotation=45, ha="right", fontsize=7)


def _png(fig: Any) -> bytes:
    # tight_layout leaves a placeholder layout engine behind, and with any engine set
    # savefig lays the figure out once more (a whole extra draw): the layout is final here.
    fig.set_layout_engine(None)
    buf = io.BytesIO()
    # zlib level 1 instead of PIL's 6: the same pixels, about 5 % bigger, and the encoding
    # (an eighth of a chart's time at level 6) costs a fraction.
    fig.savefig(
        buf, format="png", dpi=DPI, metadata=_PNG_METADATA, pil_kwargs={"compress_level": 1}
    )
    return buf.getvalue()


_DRAWN: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
_DRAWN_MAX = 256


def _drawn(key: str, draw: Callable[[], tuple[bytes, str]]) -> tuple[bytes, str]:
    """`draw()`, or the bytes it gave before for the same key (charts are reproducible).

    The internal and public reports draw the same series wherever nothing is suppressed,
    and drawing is most of a quarterly run's time: each distinct chart is drawn once per
    process.
    """
    if key in _DRAWN:
        _DRAWN.move_to_end(key)
        return _DRAWN[key]
    _DRAWN[key] = out = draw()
    if len(_DRAWN) > _DRAWN_MAX:
        _DRAWN.popitem(last=False)
    return out


#: A chart to draw: ("measure", one series) or ("overview", the series of one part).
ChartJob = tuple[str, Any]


def _key(job: ChartJob) -> str:
    kind, what = job
    return f"{kind} {what!r}"


def _draw_job(job: ChartJob) -> tuple[bytes, str]:
    kind, what = job
    return _measure_chart(what) if kind == "measure" else _overview_chart(what)


def _style_digest() -> str:
    """What a kept chart depends on besides the data: the code that draws and describes it
    (this module and `chart_text`) and matplotlib's version."""
    from importlib.metadata import version

    here = Path(__file__)
    code = here.read_bytes() + here.with_name("chart_text.py").read_bytes()
    return hashlib.sha256(code + version("matplotlib").encode()).hexdigest()


def _cache_name(key: str, style: str) -> str:
    return hashlib.sha256(f"{style}\n{key}".encode()).hexdigest()


def draw_ahead(
    jobs: list[ChartJob], cache_dir: Path | None = None, processes: int | None = None
) -> int:
    """Have every chart of `jobs` ready before the documents ask for it; how many were drawn.

    Each distinct chart is drawn once, the ones not drawn before in parallel over up to
    `processes` cores (default: all available). With a `cache_dir`, a chart drawn by an
    earlier run from the same series with the same code is read back instead of drawn
    again (the same data gives the same bytes), and the folder keeps exactly this run's
    charts. The cache holds the internal pack's charts, so it lives beside the internal
    documents, under the output folder.
    """
    from transforms.atomic import atomic_write_bytes
    from transforms.forked import forked_map

    unique = list({_key(j): j for j in jobs}.items())
    style = _style_digest() if cache_dir is not None else ""
    todo: list[tuple[str, ChartJob]] = []
    for key, job in unique:
        if key in _DRAWN:
            continue
        cached = _from_cache(cache_dir, _cache_name(key, style)) if cache_dir else None
        if cached is None:
            todo.append((key, job))
        else:
            _keep(key, cached)
    todo.sort(key=lambda item: item[1][0] != "overview")  # the longest to draw first
    if todo:
        import_matplotlib()  # once, here: not again in every forked child
    drawn = forked_map(_draw_job, [job for _, job in todo], processes)
    for (key, _), out in zip(todo, drawn, strict=True):
        _keep(key, out)
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        wanted = {_cache_name(key, style): _DRAWN[key] for key, _ in unique if key in _DRAWN}
        for name, (png, alt) in wanted.items():
            if not (cache_dir / f"{name}.png").exists():
                atomic_write_bytes(cache_dir / f"{name}.txt", alt.encode("utf-8"))
                atomic_write_bytes(cache_dir / f"{name}.png", png)
        for old in cache_dir.iterdir():
            if old.stem not in wanted:
                old.unlink(missing_ok=True)
    return len(todo)


def import_matplotlib() -> None:
    """What drawing imports (matplotlib, its Agg canvas, its font cache), loaded before
    the children fork so each starts with it instead of importing it again."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
    from matplotlib.figure import Figure  # noqa: F401
    from matplotlib.lines import Line2D  # noqa: F401


def _from_cache(cache_dir: Path, name: str) -> tuple[bytes, str] | None:
    try:
        return (cache_dir / f"{name}.png").read_bytes(), (cache_dir / f"{name}.txt").read_text(
            encoding="utf-8"
        )
    except (OSError, UnicodeDecodeError):
        return None


def _keep(key: str, out: tuple[bytes, str]) -> None:
    _DRAWN[key] = out
    _DRAWN.move_to_end(key)
    if len(_DRAWN) > _DRAWN_MAX:
        _DRAWN.popitem(last=False)


def measure_chart(s: ChartSeries) -> tuple[bytes, str]:
    """(PNG bytes, alt text) for one measure's run chart."""
    return _drawn(f"measure {s!r}", lambda: _measure_chart(s))


def _measure_chart(s: ChartSeries) -> tuple[bytes, str]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(6.7, 3.1), dpi=DPI)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        _draw(ax, s)
        ax.set_ylabel(s.unit_label)
        ax.set_title(
            "\n".join(textwrap.wrap(f"{s.measure_id} {s.name}", 80)),
            loc="left",
            # Placed, not left to matplotlib: its placement measures the y axis again to
            # dodge an offset text that is switched off (_RC).
            y=1.0,
            fontsize=9,
            fontweight="bold",
            color=NAVY,
        )
        handles = _legend_handles(s)
        ax.legend(
            handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False
        )
        fig.tight_layout()
        return _png(fig), alt_text(s)


def _legend_handles(s: ChartSeries) -> list[Any]:
    """The single chart's legend: the value line, then each reference, mark and RAG shown."""
    from matplotlib.lines import Line2D

    mark: dict[str, Any] = {"linestyle": "none", "markeredgecolor": "black"}
    handles = [Line2D([], [], color=NAVY, linewidth=1.6, label="Value")]
    if s.trajectory and any(t is not None for t in s.trajectory):
        handles.append(Line2D([], [], color=GREY, linestyle="--", label="Trajectory"))
    if s.standing_target is not None:
        handles.append(Line2D([], [], color=GREY, linestyle="--", label=s.standing_target[1]))
    if s.milestones:
        star = Line2D(
            [], [], marker="*", color=TEAL, markersize=9, label="Milestone target", **mark
        )
        handles.append(star)
    for rag, (marker, colour, word) in RAG_STYLE.items():
        if rag in s.rags:
            handles.append(Line2D([], [], marker=marker, color=colour, label=word, **mark))
    if any(s.suppressed):
        handles.append(Line2D([], [], linestyle="none", label=f"{s.symbol} = suppressed"))
    return handles


def overview_chart(series: list[ChartSeries]) -> tuple[bytes, str]:
    """(PNG bytes, alt text) for small multiples of every headline series."""
    return _drawn(f"overview {series!r}", lambda: _overview_chart(series))


def _overview_chart(series: list[ChartSeries]) -> tuple[bytes, str]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    cols = 3
    rows = max(1, -(-len(series) // cols))
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(6.7, 1.9 * rows + 0.2), dpi=DPI)
        FigureCanvasAgg(fig)
        for i, s in enumerate(series):
            ax = fig.add_subplot(rows, cols, i + 1)
            _draw(ax, s, small=True)
            ax.set_title(
                "\n".join(textwrap.wrap(f"{s.measure_id} {s.name}", 32)[:2]),
                fontsize=6.5,
                loc="left",
                y=1.0,
                color=NAVY,
            )
            ax.tick_params(axis="y", labelsize=6)
        fig.tight_layout()
        png = _png(fig)
    parts = []
    for s in series:
        last = max((i for i, v in enumerate(s.values) if v is not None), default=None)
        if last is None:
            parts.append(f"{s.measure_id} has no value to show")
            continue
        rag = f", {s.rags[last]}" if s.rags[last] else ""
        parts.append(f"{s.measure_id} {s.labels[last]} in {quarter_short(s.quarters[last])}{rag}")
    alt = (
        f"Small multiple line charts of {len(series)} headline measures over time. "
        + "; ".join(parts)
        + "."
    )
    return png, alt
