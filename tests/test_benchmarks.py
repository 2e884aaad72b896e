"""The benchmarks (benchmarks/*.py) still start: each one's ``--help`` runs its imports.

They are measured by hand, never in the suite (no speed is asserted here); but one that no
longer imports is found only when somebody needs its figures. pdf_tags_benchmark.py failed at
import for many commits after ``renderers.pdf.source_date`` was renamed.
"""

from __future__ import annotations

import os
import subprocess
import sys
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
