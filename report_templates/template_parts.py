"""The parts of the Word template, as data: paragraphs (a tag or words, with a style),
loop tables (headers, cells, the `{%tr for %}` loop, column widths in cm) and named layout
steps, in the order `build_template.build` places them.

Change the report's layout here; `build_template.py` knows only how to place each kind.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class P:
    """A paragraph: words or a tag, in one run, with an optional style."""

    text: str
    style: str | None = None


@dataclass(frozen=True)
class LoopTable:
    """A table with a header row and one row repeated `{%tr for <loop> %}`."""

    headers: tuple[str, ...]
    cells: tuple[str, ...]
    loop: str
    widths: tuple[float, ...]


@dataclass(frozen=True)
class Step:
    """A layout step the builder does by name (logo, cover table, page break, section)."""

    name: str


#: What a part is made of: paragraphs, loop tables and layout steps.
Item = P | LoopTable | Step

#: The disclosure footnote, shown under every table of figures in the public pack.
FOOTNOTE = (P("{%p if public %}"), P("{{ footnote }}", "Table Note"), P("{%p endif %}"))


COVER_ROWS = (
    ("Document detail", "Value"),
    ("Protective marking", "{{ marking }}"),
    ("Pack", "{{ pack }}"),
    ("Quarter end", "{{ quarter_end }}"),
    ("Data as at", "{{ data_as_at }}"),
    ("Version", "{{ version }}"),
    ("Status", "{{ status }}"),
)


COVER: tuple[Item, ...] = (
    Step("logo"),
    P("{{ title }}", "Title"),
    P("{{ quarter_label }}", "Subtitle"),
    P("{{ partnership }}", "Cover Detail"),
    P("{{ plan_title }}", "Cover Detail"),
    P("{%p if draft %}"),
    P("DRAFT", "Draft Mark"),
    P("{%p endif %}"),
    Step("cover table"),
    *FOOTNOTE,
    Step("page break"),
)

SUMMARY: tuple[Item, ...] = (
    P("Summary", "Heading 1"),
    P("Returns", "Heading 2"),
    P("{{ returns.text }}"),
    P("Key messages", "Heading 2"),
    P("{%p for m in key_messages %}"),
    P("{{ m }}", "List Bullet"),
    P("{%p endfor %}"),
    P("Measures with targets", "Heading 2"),
    LoopTable(
        ("Measure", "Value", "n of N", "Target / trajectory", "RAG", "Trend"),
        (
            "{{ r.label }}",
            "{{ r.value }}",
            "{{ r.n_of_d }}",
            "{{ r.target }}",
            "{% cellbg r.rag_fill %}{{ r.rag }}",
            "{{ r.trend }}",
        ),
        "r in rag_rows",
        (5.6, 1.8, 1.9, 3.6, 1.7, 2.0),
    ),
    # The rules' numbers (tolerance, small base, run-chart lengths) come from the spec.
    P("{{ rules.rag }} Trend is against the previous quarter. {{ rules.signal }}", "Table Note"),
    *FOOTNOTE,
    P("{%p for part in overview_parts %}"),
    P("{{ part.title }}", "Heading 2"),
    P("{{ part.image }}"),
    P("{%p endfor %}"),
)

OUTCOMES: tuple[Item, ...] = (
    P("{%p for o in outcomes %}"),
    P("{{ o.title }}", "Heading 1"),
    P("{{ o.aim }}", "Cover Detail"),
    P("Actions and progress", "Heading 2"),
    LoopTable(
        ("Action", "Key driver", "Lead", "Status", "Progress update"),
        (
            "{{ a.id }}",
            "{{ a.driver_short }}",
            "{{ a.leads }} ({{ a.update_from }})",
            "{{ a.status }}",
            "{{ a.progress }}",
        ),
        "a in o.actions",
        (1.6, 3.7, 3.2, 1.8, 6.3),
    ),
    P("Measures", "Heading 2"),
    P("{%p if o.measures %}"),
    LoopTable(
        (
            "Measure",
            "Value",
            "n of N",
            "Target / trajectory",
            "RAG",
            "Trend (quarter)",
            "Trend (year)",
        ),
        (
            "{{ r.label }}",
            "{{ r.value }}",
            "{{ r.n_of_d }}",
            "{{ r.target }}",
            "{% cellbg r.rag_fill %}{{ r.rag }}",
            "{{ r.trend }}",
            "{{ r.trend_year }}",
        ),
        "r in o.measures",
        (4.0, 1.5, 1.8, 3.0, 1.6, 2.1, 2.1),
    ),
    *FOOTNOTE,
    P("{%p else %}"),
    P("No measures are defined for this outcome."),
    P("{%p endif %}"),
    P("{%p for c in o.charts %}"),
    P("{{ c.title }}", "Heading 3"),
    P("{{ c.image }}"),
    P("{%p endfor %}"),
    P("{%p if o.breakdowns %}"),
    P("Breakdowns", "Heading 2"),
    LoopTable(
        ("Measure", "Breakdown", "Value", "n of N"),
        ("{{ b.measure }}", "{{ b.breakdown }}", "{{ b.value }}", "{{ b.n_of_d }}"),
        "b in o.breakdowns",
        (2.0, 7.6, 3.0, 3.0),
    ),
    *FOOTNOTE,
    P("{%p endif %}"),
    P("{%p endfor %}"),
)

#: Landscape, as the seed lays the plan out; the next part returns to portrait.
ACTION_PLAN: tuple[Item, ...] = (
    Step("landscape"),
    P("Action plan", "Heading 1"),
    P(
        "{{ plan_title }} ({{ plan_period }}), with each lead's progress update for "
        "{{ quarter_short }}."
    ),
    LoopTable(
        (
            "Stretch Outcome Aim",
            "Key Drivers",
            "Improvement project aim",
            "Key Improvement Measures",
            "Lead Responsibility",
            "Progress update",
        ),
        (
            "{{ a.outcome_aim }}",
            "{{ a.driver }}",
            "{{ a.aim }}",
            "{{ a.measures_text }}",
            "{{ a.leads }}",
            "{{ a.status }}: {{ a.progress }}",
        ),
        "a in action_plan",
        (3.8, 4.4, 4.4, 4.6, 3.0, 5.4),
    ),
    Step("portrait"),
)

MILESTONES: tuple[Item, ...] = (
    P("Milestones", "Heading 1"),
    P("Action plan milestones", "Heading 2"),
    LoopTable(
        ("Due", "Action", "Milestone", "Status", "Completed"),
        ("{{ m.due }}", "{{ m.action }}", "{{ m.text }}", "{{ m.status }}", "{{ m.completed }}"),
        "m in milestones",
        (2.8, 1.4, 7.2, 2.2, 2.8),
    ),
    P(
        "Met: the action was reported Complete on or before the due date. Missed: the due "
        "date passed without that. Overdue: missed and still not complete.",
        "Table Note",
    ),
    P("Measure targets", "Heading 2"),
    P("{%p if target_milestones %}"),
    LoopTable(
        ("Measure", "Date", "Target", "Value", "Result"),
        ("{{ t.measure }}", "{{ t.date }}", "{{ t.target }}", "{{ t.value }}", "{{ t.met }}"),
        "t in target_milestones",
        (6.4, 3.2, 2.2, 2.2, 2.4),
    ),
    *FOOTNOTE,
    P("{%p else %}"),
    P("No measure target milestone has fallen due."),
    P("{%p endif %}"),
)

DQ_RETURNS: tuple[Item, ...] = (
    P("Data-quality annex", "Heading 1"),
    P("Returns: status and timeliness", "Heading 2"),
    P("{{ returns.text }}"),
    LoopTable(
        ("Code", "Submitter", "Kind", "Status", "Timeliness", "Received"),
        (
            "{{ d.code }}",
            "{{ d.name }}",
            "{{ d.kind }}",
            "{{ d.status }}",
            "{{ d.late }}",
            "{{ d.received }}",
        ),
        "d in dq_returns",
        (1.4, 5.6, 1.4, 3.0, 1.8, 3.2),
    ),
)

#: The internal pack lists warnings with submitters' notes; the public pack counts them.
DQ_WARNINGS: tuple[Item, ...] = (
    P("Warnings and submitters' notes", "Heading 2"),
    P("{%p if show_detail %}"),
    P("{%p if dq_warnings %}"),
    LoopTable(
        ("Submitter", "Sheet", "Where", "Rule", "Warning", "Submitter's note"),
        (
            "{{ w.submitter }}",
            "{{ w.sheet }}",
            "{{ w.location }}",
            "{{ w.rule }}",
            "{{ w.message }}",
            "{{ w.note }}",
        ),
        "w in dq_warnings",
        (1.8, 2.6, 1.6, 2.4, 4.2, 4.0),
    ),
    P("{%p else %}"),
    P("No warnings were raised on this quarter's returns."),
    P("{%p endif %}"),
    P("{%p else %}"),
    P(
        "{{ warning_total }} warnings were raised on this quarter's returns; the details "
        "and submitters' notes are in the internal pack."
    ),
    P("{%p if dq_warning_counts %}"),
    LoopTable(
        ("Submitter", "Warnings", "With a note"),
        ("{{ w.submitter }}", "{{ w.count }}", "{{ w.with_note }}"),
        "w in dq_warning_counts",
        (4.0, 3.0, 3.0),
    ),
    P("{%p endif %}"),
    P("{%p endif %}"),
)

#: Child references in the internal pack only; the public pack gives the count.
DQ_MISMATCHES: tuple[Item, ...] = (
    P("Cross-agency mismatches", "Heading 2"),
    P("{%p if show_detail and dq_mismatches %}"),
    LoopTable(
        ("Quarter", "Child reference", "Found in", "Missing from"),
        ("{{ x.quarter }}", "{{ x.child_ref }}", "{{ x.found_in }}", "{{ x.missing_from }}"),
        "x in dq_mismatches",
        (2.4, 3.2, 5.2, 5.2),
    ),
    P("{%p else %}"),
    P(
        "{{ mismatch_total }} children were found in one agency's return but not in "
        "another's.{% if not show_detail %} The references are listed in the internal pack "
        "only.{% endif %}"
    ),
    P("{%p endif %}"),
)

DQ_REVISIONS: tuple[Item, ...] = (
    P("Revisions since the last report", "Heading 2"),
    P("{%p if revisions %}"),
    LoopTable(
        ("Measure", "Quarter", "Breakdown", "Previously", "Now", "Issued in"),
        (
            "{{ v.measure }}",
            "{{ v.quarter }}",
            "{{ v.breakdown }}",
            "{{ v.old }}",
            "{{ v.new }}",
            "{{ v.version }}",
        ),
        "v in revisions",
        (1.8, 2.4, 3.0, 3.2, 2.4, 3.2),
    ),
    P("{%p else %}"),
    P("No figures were revised since the last report."),
    P("{%p endif %}"),
)

DEFINITIONS: tuple[Item, ...] = (
    P("Definitions", "Heading 1"),
    P(
        "Each measure as defined in the project's measure specification. Definitions the "
        "action plan does not give are BIU definitions and are labelled so."
    ),
    LoopTable(
        ("ID", "Measure", "Definition", "Target", "Source"),
        (
            "{{ d.id }}",
            "{{ d.name }} ({{ d.unit }}; {{ d.direction }}; action {{ d.action }})",
            "{{ d.definition }}",
            "{{ d.target }}",
            "{{ d.source }}{% if d.bi_note %}. {{ d.bi_note }}{% endif %}",
        ),
        "d in definitions",
        (1.1, 3.6, 6.6, 2.4, 3.3),
    ),
    *FOOTNOTE,
)

#: The report, part by part, in order.
PARTS: tuple[tuple[Item, ...], ...] = (
    COVER,
    SUMMARY,
    OUTCOMES,
    ACTION_PLAN,
    MILESTONES,
    DQ_RETURNS,
    DQ_WARNINGS,
    DQ_MISMATCHES,
    DQ_REVISIONS,
    DEFINITIONS,
)
