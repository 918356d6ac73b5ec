"""List production modules over 500 lines and functions over 60 lines; exit 1 if any.

Why: issue #15 keeps modules and functions small enough to read in one sitting. A
function's size runs from its `def` (decorators excluded) to its last line, docstring
included. Run from the repository root: `python scripts/sizes.py`.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60

# The production code: every .py file under these folders.
CHECKED = ("transforms", "flows", "datasummary", "report_templates")


def oversized(path: Path, relative: str) -> list[str]:
    """The size problems of one module, one line each."""
    text = path.read_text(encoding="utf-8")
    problems = []
    lines = len(text.splitlines())
    if lines > MAX_MODULE_LINES:
        problems.append(f"{relative}: module has {lines} lines (max {MAX_MODULE_LINES})")
    for node in ast.walk(ast.parse(text, filename=relative)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                problems.append(
                    f"{relative}:{node.lineno}: function {node.name} has {length} lines"
                    f" (max {MAX_FUNCTION_LINES})"
                )
    return problems


def main(root: Path) -> int:
    """Print every oversized module and function; 1 if there is any."""
    problems = []
    for folder in CHECKED:
        for path in sorted((root / folder).rglob("*.py")):
            problems.extend(oversized(path, path.relative_to(root).as_posix()))
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path.cwd()))
