"""Many partnerships: each is configuration — a name, its inbox, its output, optionally a spec.

The national run reads a YAML (or TOML) file such as::

    partnerships:
      - name: Aberdeen City
        inbox: aberdeen/inbox
        output: aberdeen/output
      - name: Angus
        inbox: /shares/angus/inbox
        output: /shares/angus/output
        spec_dir: angus/spec          # optional: its own spec/*.yaml
        db_url: postgresql://...      # optional: default SQLite under output

Relative paths are taken from the configuration file's folder, so a configuration can be
moved with the folders it describes.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, field_validator


class Partnership(BaseModel):
    """One partnership's folders (and, optionally, its own specification and store)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    inbox: Path
    output: Path
    spec_dir: Path | None = None
    db_url: str | None = None

    @field_validator("name")
    @classmethod
    def _named(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a partnership needs a name")
        return value.strip()


class PartnershipsConfig(BaseModel):
    """The partnerships of one national run; names must be unique."""

    model_config = ConfigDict(extra="forbid")

    partnerships: list[Partnership]

    @field_validator("partnerships")
    @classmethod
    def _unique(cls, value: list[Partnership]) -> list[Partnership]:
        names = [p.name for p in value]
        if len(set(names)) != len(names):
            raise ValueError("partnership names must be unique")
        return value


def _anchored(p: Partnership, base: Path) -> Partnership:
    def at(path: Path | None) -> Path | None:
        return None if path is None else (path if path.is_absolute() else base / path)

    return p.model_copy(
        update={"inbox": at(p.inbox), "output": at(p.output), "spec_dir": at(p.spec_dir)}
    )


def load_partnerships(path: Path) -> list[Partnership]:
    """The partnerships listed in a .yaml/.yml or .toml file, paths made absolute."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    config = PartnershipsConfig.model_validate(data)
    base = path.resolve().parent
    return [_anchored(p, base) for p in config.partnerships]


def write_partnerships(path: Path, partnerships: list[Partnership]) -> Path:
    """Write a YAML configuration (what the benchmark and tests generate)."""
    rows = [p.model_dump(mode="json", exclude_none=True) for p in partnerships]
    Path(path).write_text(yaml.safe_dump({"partnerships": rows}, sort_keys=False), encoding="utf-8")
    return Path(path)
