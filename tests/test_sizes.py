"""scripts/sizes.py: the size limits `make lint` holds the production code to."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "sizes.py"


def _sizes():
    spec = importlib.util.spec_from_file_location("sizes_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _function(name: str, lines: int) -> str:
    """A function of exactly `lines` lines, def to last line."""
    body = "".join(f"    x{i} = {i}\n" for i in range(lines - 2))
    return f"def {name}():\n{body}    return None\n"


def test_a_function_over_sixty_lines_and_a_module_over_five_hundred_are_listed(tmp_path):
    sizes = _sizes()
    ok, long = _function("fits", 60), _function("too_long", 61)
    source = tmp_path / "transforms" / "m.py"
    source.parent.mkdir()
    source.write_text(ok + "\n\n" + long)
    problems = sizes.oversized(source, "transforms/m.py")  # def at 60 + 2 blank + 1
    assert problems == ["transforms/m.py:63: function too_long has 61 lines (max 60)"]
    big = tmp_path / "transforms" / "big.py"
    big.write_text("x = 1\n" * 501)
    assert sizes.oversized(big, "transforms/big.py") == [
        "transforms/big.py: module has 501 lines (max 500)"
    ]
    assert sizes.main(tmp_path) == 1


def test_methods_count_like_functions(tmp_path):
    sizes = _sizes()
    method = "".join(f"    {line}\n" for line in _function("m", 61).splitlines())
    source = tmp_path / "flows" / "x.py"
    source.parent.mkdir()
    source.write_text("class C:\n" + method)
    assert sizes.main(tmp_path) == 1


def test_the_production_code_is_within_the_limits():
    out = subprocess.run(
        [sys.executable, str(SCRIPT)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stdout
