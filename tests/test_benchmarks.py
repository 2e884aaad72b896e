"""The benchmarks (benchmarks/*.py) still start: ``--help`` runs each one's top-level imports,
and every name a benchmark imports from the library (in a function, or in a child process's
script) still exists.

They are measured by hand, never in the suite (no speed is asserted here); but one that no
longer imports is found only when somebody needs its figures. pdf_tags_benchmark.py failed at
import for many commits after ``renderers.pdf.source_date`` was renamed.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = sorted((ROOT / "benchmarks").glob("*_benchmark.py"))


def test_every_benchmark_is_listed():
    assert len(BENCHMARKS) >= 5, BENCHMARKS


@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda p: p.name)
def test_a_benchmark_imports_and_explains_itself(script):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage:"), done.stdout


def _imports(tree: ast.AST):
    """Yield (module, name) for every ``from cabinet_reports… import name`` in ``tree``, and in the
    scripts it holds as string constants (the child processes a benchmark runs)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cabinet_reports"):
            yield from ((node.module, alias.name) for alias in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "cabinet_reports" in node.value:
            try:
                inner = ast.parse(textwrap.dedent(node.value))
            except SyntaxError:
                continue
            yield from _imports(inner)


@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda p: p.name)
def test_what_a_benchmark_imports_from_the_library_exists(script):
    """Imports inside functions and in the scripts of the child processes a benchmark starts
    (``--help`` runs neither): each name must still be in its module."""
    wanted = sorted(set(_imports(ast.parse(script.read_text(encoding="utf-8")))))
    assert wanted, "no library import found"
    missing = [f"{module}.{name}" for module, name in wanted if not _importable(module, name)]
    assert missing == []


def _importable(module: str, name: str) -> bool:
    found = importlib.import_module(module)
    if hasattr(found, name):
        return True
    return hasattr(found, "__path__") and importlib.util.find_spec(f"{module}.{name}") is not None  # a submodule
