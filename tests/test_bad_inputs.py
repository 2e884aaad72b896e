"""The bad-input corpus: every file in tests/bad_inputs/ is refused the same careful way.

Each case runs the real command line in a fresh process, exactly as an officer would:
``python -m cabinet_reports render FILE -o OUTDIR``. It must exit 2, print exactly the
expected located line(s) (``file:line: field.path: message``), never a traceback, and leave
OUTDIR exactly as it was: an output file that already existed keeps its bytes and nothing
else appears (no partial output, no temporary files).

Cases are collected from the folder (black's ``tests/data/cases`` style); see
tests/bad_inputs/README.md for the ``# expect:`` format.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from cabinet_reports.api import output_stem

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
INPUT_SUFFIXES = {".yaml", ".yml", ".json", ".md"}
EXPECT = "expect:"

# pydantic's phrasing, which no message may carry (validation.py speaks an officer's words).
PYDANTIC_WORDING = ("Input should be", "String should", "should match pattern", "valid dictionary", "instance of",
                    "Value error", "Field required", "Extra inputs", "pydantic", "type=", "For further information",
                    "List should", "Dictionary should", "should have at")
EXPECT_IN = "expect-in:"
THEME = "theme:"


@dataclass(frozen=True)
class Expected:
    """One expected stderr line: its line number and field path (None: none) and a message part."""

    line: int | None
    field: str | None
    message: str
    file: str | None = None  # the file the error names, when not the input itself

    def prefix(self, name: str) -> str:
        where = (self.file or name) + (f":{self.line}" if self.line else "")
        return f"make-report: error: {where}: " + (f"{self.field}: " if self.field else "")


def parse_expectations(lines: list[str]) -> list[Expected]:
    """Parse ``expect: LINE: FIELD: MESSAGE`` lines (``-`` for no line or no field)."""
    out = []
    file = None
    for raw in lines:
        body = raw.removeprefix("#").strip()
        if body.startswith(EXPECT_IN):  # "expect-in: other.yaml": later lines name that file
            file = str(CORPUS / body[len(EXPECT_IN):].strip())
        if not body.startswith(EXPECT):
            continue
        line, field, message = body[len(EXPECT):].strip().split(": ", 2)
        out.append(Expected(None if line == "-" else int(line), None if field == "-" else field, message, file))
    return out


def directives(case: Path) -> list[str]:
    """Return a case's sidecar ``.expect`` lines, or else its leading comment lines."""
    sidecar = case.with_name(case.name + ".expect")
    if sidecar.exists():
        return sidecar.read_text(encoding="utf-8").splitlines()
    leading = []
    for line in case.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        leading.append(line)
    return leading


def expectations(case: Path) -> list[Expected]:
    """Read a case's expectations from its sidecar ``.expect`` file or its leading comments."""
    return parse_expectations(directives(case))


def theme_option(case: Path) -> list[str]:
    """Return ``["--theme", DIR]`` for a case with a ``theme: DIR`` line (a folder of the corpus), else []."""
    for raw in directives(case):
        body = raw.removeprefix("#").strip()
        if body.startswith(THEME):
            return ["--theme", body[len(THEME):].strip()]
    return []


# Meeting files run through `make-report pack`; every other file through `make-report render`.
MEETING_PREFIX = "meeting_"
CASES = sorted(p for p in CORPUS.iterdir() if p.suffix in INPUT_SUFFIXES and p.name != "README.md")


def test_corpus_is_big_and_every_case_says_what_it_expects():
    assert len(CASES) >= 30
    missing = [c.name for c in CASES if not expectations(c)]
    assert missing == []
    orphans = [p.name for p in CORPUS.glob("*.expect") if not p.with_name(p.name[:-len(".expect")]).exists()]
    assert orphans == []


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cabinet_reports", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=60)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_refused_with_located_lines_and_no_output(case, tmp_path):
    expected = expectations(case)
    outdir = tmp_path / "out"
    outdir.mkdir()
    # Outputs from an earlier good render must survive a failed one byte for byte.
    if case.name.startswith(MEETING_PREFIX):
        command = "pack"
        names = ["agenda.pdf", "agenda.docx", "public-pack.pdf", "full-pack.pdf"]
    else:
        command = "render"
        names = [f"{output_stem(case)}.pdf", f"{output_stem(case)}.docx"]
    previous = {outdir / name: f"previous {name}\n".encode() for name in names}
    for path, data in previous.items():
        path.write_bytes(data)
    before = {p: p.stat().st_mtime_ns for p in previous}

    result = run_cli(command, case.name, "-o", str(outdir), *theme_option(case), cwd=CORPUS)

    assert "Traceback" not in result.stderr
    assert not [w for w in PYDANTIC_WORDING if w.lower() in result.stderr.lower()], result.stderr
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == len(expected), result.stderr
    for got, want in zip(lines, expected):
        prefix = want.prefix(case.name)
        assert got.startswith(prefix), f"\n got: {got}\nwant: {prefix}…{want.message}…"
        assert want.message in got[len(prefix):], f"\n got: {got}\nwant: {prefix}…{want.message}…"
    assert sorted(outdir.iterdir()) == sorted(previous)
    for path, data in previous.items():
        assert path.read_bytes() == data
        assert path.stat().st_mtime_ns == before[path]


def test_check_agrees_with_render_on_a_sample(tmp_path):
    """`check` refuses the same way (it shares the loader and validator)."""
    for name in ["unknown_key_titel.yaml", "duplicate_label.yaml", "not_utf8.yaml"]:
        result = run_cli("check", name, cwd=CORPUS)
        want = expectations(CORPUS / name)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert [line.startswith(w.prefix(name)) for line, w in zip(result.stderr.splitlines(), want)] == [True] * len(want)


def test_a_fixed_case_renders(tmp_path):
    """Controls for the corpus: the smallest fix to a few bad files makes them valid.

    This shows the refusals are about the one thing each file gets wrong, not about a
    skeleton that could never render (a sub-point after its paragraph renders as 1.1.1).
    """
    from cabinet_reports.api import build, report_from_data

    base = {"council": {"name": "Test Borough Council"}, "meeting": {"body": "Cabinet", "date": "2026-01-14"},
            "title": "Test report", "sections": {"purpose": ["To test."], "recommendations": ["That Cabinet notes."]}}
    doc = build(report_from_data(dict(base, sections={
        "purpose": ["To test.", {"subpoint": "A sub-point", "text": "It now follows a paragraph."}],
        "recommendations": [{"p": "That Cabinet notes [[aim]].", "label": "aim"}]})))
    assert doc.numbered_labels() == ["1.0", "1.1", "1.1.1", "2.0", "2.1"]
    # Nesting up to the limit is fine.
    from cabinet_reports.models import MAX_NESTING
    inner: object = "the end"
    for depth in range(MAX_NESTING - 2):
        inner = {"letters": [{"text": f"level {depth}", "blocks": [inner]}]}
    build(report_from_data(dict(base, sections={"purpose": ["To test.", inner], "recommendations": ["R."]})))

