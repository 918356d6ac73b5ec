"""Markdown for run summaries (Prefect artifacts), with every user-supplied string escaped.

File names are chosen by whoever drops a file in the inbox: a `|` breaks a table row, a
newline ends it, `<img ...>` or `[x](javascript:...)` would be rendered. Every cell goes
through `md_escape`, so a name is shown as the text it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|<>&~])")


def md_escape(value: object) -> str:
    """`value` as literal Markdown text on one line: specials escaped, line breaks as spaces."""
    text = "" if value is None else str(value)
    text = re.sub(r"[\r\n\t\x0b\x0c\u2028\u2029]+", " ", text)
    text = "".join(ch if ch.isprintable() or ch == " " else "\ufffd" for ch in text)
    return _SPECIAL.sub(r"\\\1", text)


def markdown_table(headers: list[str], rows: Iterable[Iterable[object]]) -> list[str]:
    """A Markdown table, every cell escaped; no lines when there are no rows."""
    body = [f"| {' | '.join(md_escape(c) for c in row)} |" for row in rows]
    if not body:
        return []
    head = f"| {' | '.join(md_escape(h) for h in headers)} |"
    return [head, "|" + "---|" * len(headers), *body]
