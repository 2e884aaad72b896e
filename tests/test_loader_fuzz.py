"""Fuzzing the loader: random byte mutations of the example YAML and JSON files.

However an input file is damaged (bytes changed, inserted, deleted or repeated; YAML tokens,
control characters and invalid UTF-8 spliced in), reading, validating and checking it raises
a CabinetReportsError with located problems, or succeeds: never another exception, and
``make-report check`` exits 0 or 2, never 1 (an internal error). An earlier fuzzer found a
raw control character crashing the loader 233 times in 10,000 mutations.

``FUZZ_EXAMPLES=10000 pytest tests/test_loader_fuzz.py`` runs a longer campaign.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cabinet_reports.api import load_report
from cabinet_reports.cli import EXIT_BUG, main
from cabinet_reports.errors import CabinetReportsError
from cabinet_reports.loader import load_file
from cabinet_reports.meeting import Meeting
from cabinet_reports.validation import validate

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
REPORTS = sorted(EXAMPLES.glob("*/report.yaml")) + sorted((EXAMPLES / "dudley-2005-cabinet").glob("[!m]*.yaml"))
MEETING = EXAMPLES / "dudley-2005-cabinet" / "meeting.yaml"


def _seeds() -> list[tuple[str, bytes]]:
    """Return (kind, bytes) for every example, in YAML and as JSON."""
    seeds = []
    for path in [*REPORTS, MEETING]:
        kind = "meeting" if path == MEETING else "report"
        raw = path.read_bytes()
        data, _ = load_file(path)
        as_json = json.dumps(data, indent=2, default=str, ensure_ascii=False).encode()
        seeds += [(f"{kind}.yaml", raw), (f"{kind}.json", as_json)]
    return seeds


SEEDS = _seeds()

# Fragments that mean something to YAML or JSON, or to our own syntax, spliced in whole.
TOKENS = [b"&a ", b"*a", b"<<: *a", b": ", b"- ", b"? ", b"[", b"]", b"{", b"}", b",", b"\"", b"'", b"#",
          b"!!binary ", b"!!python/object:os.system ", b"!!set ", b"!!timestamp ", b"---\n", b"...\n",
          b"\t", b"\n", b"\r\n", b"\x00", b"\x01", b"\x1b", b"\x7f", b"\xc2\x85", b"\xc2\x9f", b"\xef\xbf\xbe",
          b"\xed\xa0\x80", b"\xff", b"\xef\xbb\xbf", b"\\u0000", b"\\ud800", b"\\x0b", b"[[", b"]]", b"[[a]]",
          b"0001-01-01", b"2005-02-30", b"99999999999999999999999999", b"1e999", b"NaN", b"null", b"~",
          b"true", b"exempt", b"public"]


@st.composite
def mutated(draw) -> tuple[str, bytes]:
    name, original = draw(st.sampled_from(SEEDS))
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["byte", "token", "bytes", "delete", "repeat"]))
        if op == "byte" and pos < len(data):
            data[pos] = draw(st.integers(0, 255))
        elif op == "token":
            data[pos:pos] = draw(st.sampled_from(TOKENS))
        elif op == "bytes":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=6))
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 40))]
        elif op == "repeat":
            chunk = data[pos:pos + draw(st.integers(1, 200))]
            data[pos:pos] = chunk * draw(st.integers(1, 20))
    return name, bytes(data)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A copy of the meeting example's folder, so a mutated meeting finds its reports and PDFs."""
    folder = tmp_path_factory.mktemp("fuzz") / "dudley-2005-cabinet"
    shutil.copytree(EXAMPLES / "dudley-2005-cabinet", folder)
    shutil.copytree(EXAMPLES / "dudley-2005-partnership-strategy", folder.parent / "dudley-2005-partnership-strategy")
    return folder


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "120")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(case=mutated())
def test_a_damaged_file_is_refused_with_located_errors_or_read(workdir, case, capsys):
    name, data = case
    path = workdir / f"fuzzed-{name}"
    path.write_bytes(data)
    try:
        parsed, source = load_file(path)
        if name.startswith("meeting"):
            validate(Meeting, parsed, source)
        else:
            load_report(path)
    except CabinetReportsError as exc:
        assert exc.problems and all(p.file == str(path) for p in exc.problems)  # located in this file
    if name.startswith("report"):
        assert main(["check", str(path)]) != EXIT_BUG, capsys.readouterr().err
    capsys.readouterr()
