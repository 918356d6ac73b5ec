"""Where the project's data files are: the spec, the GX suites, the Word template, the docs.

In a source checkout they are the repository's top-level folders (`spec/`, `expectations/`,
`report_templates/`, `docs/`); in an installed wheel the same folders are package data under
`transforms/_data/` (see `pyproject.toml`). One lookup, so no module guesses paths of its own.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

_PACKAGED = Path(str(files("transforms"))) / "_data"
_SOURCE = Path(__file__).resolve().parent.parent


def data_root() -> Path:
    """The folder holding `spec/`, `expectations/` and `report_templates/`."""
    return _PACKAGED if _PACKAGED.is_dir() else _SOURCE


def data_path(*parts: str) -> Path:
    """A file or folder of the project's data, e.g. `data_path("spec", "returns.yaml")`."""
    return data_root().joinpath(*parts)
