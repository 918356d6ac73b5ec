"""The Word report: `report_templates/data_summary.docx` rendered with docxtpl.

Rendering is escaped (`autoescape=True`: a lead's `&` or `<` comes through as text) and strict
(`StrictUndefined`: a tag the context lacks is an error, never a silent blank). Charts are
inline images with alt text in `wp:docPr/@descr`. Core properties come from the inputs, the
zip is written with fixed timestamps, and the file is swapped in atomically, so the same data
gives the same document and a failed render leaves the previous one in place.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import struct
from pathlib import Path
from typing import Any

from transforms.atomic import atomic_write_bytes, reproducible_zip
from transforms.reports.context import TITLE, Chart, build_context
from transforms.reports.inputs import ReportInputs
from transforms.resources import data_path

log = logging.getLogger(__name__)
TEMPLATE = data_path("report_templates", "data_summary.docx")
CHART_WIDTH_CM = 16.5
#: The tallest a picture may be: the A4 text area (29.7 cm less 2 cm margins) less room for
#: its heading and the running header and footer, so it always fits on one page.
CHART_MAX_HEIGHT_CM = 21.0
AUTHOR = "Business Intelligence Unit"


def jinja_env() -> Any:
    """The strict, escaping environment every render uses."""
    from jinja2 import Environment, StrictUndefined

    return Environment(autoescape=True, undefined=StrictUndefined)


def _alt_image_class() -> Any:
    from docxtpl import InlineImage

    class AltTextImage(InlineImage):  # type: ignore[misc]  # docxtpl is untyped
        """An inline image whose drawing carries alt text (docPr descr and title)."""

        def __init__(
            self, tpl: Any, image_descriptor: Any, descr: str, title: str, **kw: Any
        ) -> None:
            super().__init__(tpl, image_descriptor, **kw)
            self.descr, self.title = descr, title

        def _insert_image(self) -> str:
            inline = self.tpl.current_rendering_part.new_pic_inline(
                self.image_descriptor, self.width, self.height
            )
            doc_pr = inline.xpath(".//wp:docPr")[0]
            doc_pr.set("descr", self.descr)
            doc_pr.set("title", self.title)
            return (
                "</w:t></w:r><w:r><w:drawing>" + str(inline.xml) + "</w:drawing></w:r><w:r>"
                '<w:t xml:space="preserve">'
            )

    return AltTextImage


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels from the PNG header."""
    return struct.unpack(">II", png[16:24])


def fitted_width_cm(png: bytes) -> float:
    """The chart width: the full text width unless that would make it taller than fits."""
    w, h = png_size(png)
    return round(min(CHART_WIDTH_CM, CHART_MAX_HEIGHT_CM * w / h), 2)


def render_context(inputs: ReportInputs, tpl: Any) -> dict[str, Any]:
    """The template context with charts as alt-texted inline images for `tpl`."""
    from docx.shared import Cm

    image_cls = _alt_image_class()

    def embed(chart: Chart) -> Any:
        return image_cls(
            tpl,
            io.BytesIO(chart.png),
            descr=chart.alt,
            title=chart.title,
            width=Cm(fitted_width_cm(chart.png)),
        )

    return build_context(inputs, image=embed)


def _set_core_properties(doc: Any, inputs: ReportInputs, ctx: dict[str, Any]) -> None:
    """Properties from the data, not the clock: same data, same document."""
    stamp = dt.datetime.combine(inputs.generated, dt.time(0, 0))
    props = doc.core_properties
    props.author = AUTHOR
    props.last_modified_by = AUTHOR
    props.title = f"{TITLE} – {ctx['quarter_short']}"
    props.subject = ctx["quarter_label"]
    props.keywords = ctx["marking"]
    props.comments = f"Version {ctx['version']}"
    props.category = ctx["pack"]
    props.created = stamp
    props.modified = stamp
    props.last_printed = stamp
    props.revision = 1
    props.identifier = ctx["version"]


def render_docx_bytes(inputs: ReportInputs, template: Path | None = None) -> bytes:
    """The rendered report as bytes (nothing is written)."""
    from docxtpl import DocxTemplate

    tpl = DocxTemplate(str(template or TEMPLATE))
    ctx = render_context(inputs, tpl)
    tpl.render(ctx, jinja_env=jinja_env(), autoescape=True)
    _set_core_properties(tpl.docx, inputs, ctx)
    buf = io.BytesIO()
    tpl.save(buf)
    return reproducible_zip(buf.getvalue())


def write_docx(inputs: ReportInputs, path: Path, template: Path | None = None) -> Path:
    """Render the Word report to `path` atomically; return `path`."""
    data = render_docx_bytes(inputs, template)
    atomic_write_bytes(Path(path), data)
    log.info(
        "wrote Word report %s (%s pack)", Path(path).name, "public" if inputs.public else "internal"
    )
    return Path(path)
