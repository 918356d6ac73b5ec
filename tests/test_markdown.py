"""File names go into run summaries escaped: a name can break or inject nothing (issue 12)."""

from __future__ import annotations

from transforms.intake.arrival import Skipped
from transforms.intake.filing import IntakeResult, ProcessedSubmission
from transforms.markdown import markdown_table, md_escape


def test_md_escape_keeps_a_name_on_one_line_as_plain_text() -> None:
    name = "a|b\nc <img src=x onerror=alert(1)> [x](javascript:y) *bold*.xlsx"
    out = md_escape(name)
    assert "\n" not in out
    assert "|" not in out.replace("\\|", "")
    assert "<" not in out.replace("\\<", "") and "[" not in out.replace("\\[", "")
    assert md_escape(None) == "" and md_escape(3) == "3"


def test_a_table_row_stays_one_row_with_the_right_cells() -> None:
    lines = markdown_table(["file", "why"], [["x|y\nz.xlsx", "a reason"]])
    assert len(lines) == 3
    assert lines[2].count(" | ") == 1  # two cells: the name's | is escaped


def test_the_intake_artifact_escapes_names_and_lists_what_was_passed_over() -> None:
    from flows.intake import intake_summary_markdown

    p = ProcessedSubmission(
        sha256="0" * 64,
        original_name="evil|name\n# heading.xlsx",
        submitter="EDU",
        quarter_end=None,
        status="rejected",
        errors=1,
        warnings=0,
        late=False,
        revision=False,
        seq=1,
    )
    result = IntakeResult(processed=[p], skipped=[Skipped("<b>link</b>.xlsx", "a link")])
    md = intake_summary_markdown(result)
    rows = [line for line in md.splitlines() if line.startswith("| evil")]
    assert len(rows) == 1 and "\\|" in rows[0]
    assert "\n# heading" not in md
    assert "\\<b\\>link\\</b\\>.xlsx | a link" in md
