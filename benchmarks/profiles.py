"""Where a stage's time goes: the top functions by cumulative time from a cProfile run."""

from __future__ import annotations

import pstats
from pathlib import Path
from typing import Any

#: Frames that only wrap the stage (the interpreter, runpy, the stage runner itself).
WRAPPERS = ("<frozen ", "builtins.exec", "builtins.__import__", "benchmarks/stages.py", "<string>")


def top_functions(prof: Path, n: int = 15) -> list[dict[str, Any]]:
    """The `n` functions with the most cumulative time, with their share of the stage."""
    stats = pstats.Stats(str(prof))
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = max((cum for (_, _, _, cum, _) in raw.values()), default=0.0) or 1.0
    rows = []
    for (file, line, func), (_, calls, own, cum, _) in raw.items():
        where = f"{_short(file)}:{line}({func})" if line else f"{{{func}}}"
        if any(w in where or w in file for w in WRAPPERS):
            continue
        rows.append({"function": where, "calls": calls, "own_s": own, "cum_s": cum})
    rows.sort(key=lambda r: r["cum_s"], reverse=True)
    return [r | {"share": r["cum_s"] / total} for r in rows[:n]]


ROOT = str(Path(__file__).resolve().parents[1]) + "/"


def _short(file: str) -> str:
    """The file relative to the project, site-packages or the standard library."""
    if file.startswith(ROOT):
        return file[len(ROOT) :]
    for marker in ("site-packages/", "/lib/python3.11/"):
        if marker in file:
            return file.split(marker, 1)[1]
    return "/".join(Path(file).parts[-2:])


def profile_lines(name: str, rows: list[dict[str, Any]]) -> list[str]:
    """The printed summary of one stage's profile."""
    lines = [f"  {name} (cProfile, one extra pass on one core; times inflated by profiling):"]
    lines += [f"    {r['share']:>5.0%} {r['cum_s']:>7.2f} s  {r['function']}" for r in rows]
    return lines
