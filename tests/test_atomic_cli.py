"""Atomic output through the command line: a failed render changes nothing on disk.

An earlier good render leaves report.pdf and report.docx in OUTDIR. The report is then edited
and rendered again, with one part of the pipeline made to fail (the DOCX renderer raising an
error, Ctrl-C during the DOCX, the disk filling up while the second file is renamed into
place, the second report of a batch failing). Afterwards OUTDIR must hold exactly the earlier
files, byte for byte, and no temporary file.
(tests/test_atomic.py covers the helpers themselves, including a process killed mid-write.)
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

import cabinet_reports.atomic as atomic
import cabinet_reports.renderers.docx as docx_renderer
import cabinet_reports.renderers.pdf as pdf_renderer
from cabinet_reports.cli import main
from cabinet_reports.errors import Problem, RenderError

REPORT = {"council": {"name": "Test Borough Council"}, "meeting": {"body": "Cabinet", "date": "2026-01-14"},
          "title": "First version", "sections": {"purpose": ["To test."], "recommendations": ["That Cabinet notes."]}}


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file in the folder (hidden temporaries included) with its bytes and mtime."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


@pytest.fixture
def previous(tmp_path) -> tuple[Path, Path, dict]:
    """A report rendered once (the previous outputs), then edited so a new render would differ."""
    src = tmp_path / "budget.json"
    src.write_text(json.dumps(REPORT), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["render", str(src), "-o", str(out), "--quiet"]) == 0
    before = snapshot(out)
    assert sorted(before) == ["budget.docx", "budget.pdf"]
    src.write_text(json.dumps(dict(REPORT, title="Second version")), encoding="utf-8")
    return src, out, before


def test_control_a_successful_render_replaces_both(previous):
    src, out, before = previous
    assert main(["render", str(src), "-o", str(out), "--quiet"]) == 0
    after = snapshot(out)
    assert sorted(after) == sorted(before)
    assert all(after[name][0] != before[name][0] for name in before)


@pytest.mark.parametrize("error, code", [(RuntimeError("renderer bug"), 1),
                                         (RenderError(Problem("cannot render")), 2),
                                         (KeyboardInterrupt(), 130)])
def test_second_format_failing_leaves_previous_outputs(previous, monkeypatch, capsys, error, code):
    src, out, before = previous

    def boom(*args, **kwargs):
        raise error
    monkeypatch.setattr(docx_renderer, "render_docx", boom)
    assert main(["render", str(src), "-o", str(out), "--quiet"]) == code
    assert snapshot(out) == before
    assert "Traceback" not in capsys.readouterr().err


def test_disk_full_while_renaming_the_second_file_rolls_back(previous, monkeypatch, capsys):
    src, out, before = previous
    real_replace = os.replace
    calls = []

    def replace(a, b, *args, **kwargs):
        calls.append((a, b))
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device", str(a))
        return real_replace(a, b, *args, **kwargs)
    monkeypatch.setattr(atomic.os, "replace", replace)
    assert main(["render", str(src), "-o", str(out), "--quiet"]) == 2
    monkeypatch.undo()
    assert snapshot(out) == before
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "No space left on device" in err
    assert ".tmp" not in err  # the error names the user's file, not our temporary


def test_a_failing_report_in_a_batch_writes_nothing_for_the_others(previous, monkeypatch, tmp_path):
    src, out, before = previous
    other = tmp_path / "other.json"
    other.write_text(json.dumps(dict(REPORT, title="Other report")), encoding="utf-8")
    real = pdf_renderer.render_pdf

    def pdf(doc, *args, **kwargs):
        if doc.title == "Other report":
            raise RenderError(Problem("cannot render the other report"))
        return real(doc, *args, **kwargs)
    monkeypatch.setattr(pdf_renderer, "render_pdf", pdf)
    assert main(["render", str(src), str(other), "-o", str(out), "--quiet"]) == 2
    assert snapshot(out) == before
