"""The committed Word template is what `report_templates/build_template.py` builds from the
parts in `report_templates/template_parts.py`: editing a part without rebuilding fails here."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "report_templates"


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i.filename) for i in z.infolist()}


def test_the_committed_template_is_what_the_builder_builds(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(TEMPLATES))
    import build_template

    built = build_template.build(tmp_path / "data_summary.docx")
    sys.modules.pop("build_template", None)
    sys.modules.pop("template_parts", None)
    ours, committed = _members(built), _members(TEMPLATES / "data_summary.docx")
    assert list(ours) == list(committed)
    # The placeholder logo is drawn by matplotlib, whose pixels may differ by version;
    # every XML part (styles, tags, tables, sections) must match exactly.
    xml = [name for name in committed if not name.startswith("word/media/")]
    assert {n: ours[n] for n in xml} == {n: committed[n] for n in xml}
    assert b"{%tr for r in rag_rows %}" in ours["word/document.xml"]
