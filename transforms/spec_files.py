"""Where the specification files are and how they are read, without validating them.

`transforms.spec` turns the files into validated models (pydantic). This module stays
light so that a caller who only needs to know the declared sheet names — the store,
checking its tables on an intake with nothing new — does not import pydantic.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

SPEC_DIR_ENV = "DATASUMMARY_SPEC_DIR"


def spec_dir() -> Path:
    """The folder holding the spec YAML files (overridable for tests and other partnerships)."""
    override = os.environ.get(SPEC_DIR_ENV)
    return Path(override) if override else Path(__file__).resolve().parent.parent / "spec"


def read_yaml(path: Path) -> dict[str, Any]:
    """A spec file, read with libyaml's safe loader where installed (ten times faster)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=loader)  # noqa: S506 - a safe loader either way


@cache
def declared_sheet_names() -> tuple[str, ...]:
    """The sheet names `returns.yaml` in `spec_dir()` declares, once per process.

    The same file and folder as `transforms.spec.default_spec()`, which validates it; this
    reads only the names.
    """
    return tuple(read_yaml(spec_dir() / "returns.yaml")["sheets"])
