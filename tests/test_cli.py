"""The command line: help, success, and located one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cabinet_reports.cli import main

ROOT = Path(__file__).resolve().parent.parent
GOOD = {"council": {"name": "Test Borough Council"}, "meeting": {"body": "Cabinet", "date": "2026-01-14"},
        "title": "Test report", "sections": {"purpose": ["To test."], "recommendations": ["That Cabinet notes."]}}


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cabinet_reports", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def test_help_explains_every_option():
    top = run("--help")
    assert top.returncode == 0 and "render" in top.stdout and "check" in top.stdout
    sub = run("render", "--help")
    for option in ["--outdir", "--format", "--theme", "--html", "--quiet"]:
        assert option in sub.stdout


@pytest.mark.parametrize("text, expected", [
    ("council: {name: X}\nmeeting: {body: Cabinet, date: 2026-01-14}\nsections:\n  purpose: [x]\n",
     "report.yaml:1: title: required field is missing"),
    ("council: {name: X}\nmeeting: {body: Cabinet, date: 2026-01-14}\ntitle: [not, text]\n",
     "report.yaml:3: title: expected text (got a list)"),
    ("council: {name: X}\nmeeting: {body: Cabinet, date: 14/01/2026}\ntitle: T\n",
     "report.yaml:2: meeting.date: expected a date as YYYY-MM-DD, e.g. 2005-03-16"),
    ("council: {name: X\ntitle: T\n",
     "report.yaml:2: invalid YAML"),
    ("council: {name: X}\nmeeting: {body: Cabinet, date: 2026-01-14}\ntitle: \"Strategic\\x0bPartnership\"\n"
     "sections: {purpose: [x], recommendations: [y]}\n",
     "report.yaml:3: title: contains the control character U+000B, which a document cannot hold"),
    ("council: {name: X}\nmeeting: {body: Cabinet, date: 2026-01-14}\ntitle: T\nsections:\n"
     "  purpose: [x]\n  recommendations:\n    - See [[nowhere]].\n",
     "report.yaml:7: sections.recommendations[0].p: unknown label 'nowhere'"),
])
def test_bad_input_gets_one_located_line_exit_2_and_no_output(tmp_path, text, expected):
    (tmp_path / "report.yaml").write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    result = run("render", "report.yaml", "-o", str(out), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"make-report: error: {expected}")
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_json_input_renders_pdf_only_when_asked(tmp_path):
    src = tmp_path / "budget.json"
    src.write_text(json.dumps(GOOD), encoding="utf-8")
    assert main(["render", str(src), "-o", str(tmp_path / "out"), "--format", "pdf", "--quiet"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["budget.pdf"]
    assert (tmp_path / "out" / "budget.pdf").read_bytes().startswith(b"%PDF-")


def test_json_errors_carry_lines_too(tmp_path, capsys):
    bad = dict(GOOD, title=5)
    src = tmp_path / "r.json"
    src.write_text(json.dumps(bad, indent=2), encoding="utf-8")
    assert main(["render", str(src), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"make-report: error: {src}:9: title: expected text (got 5)"


def test_unknown_format_is_a_clear_error(tmp_path, capsys):
    src = tmp_path / "r.json"
    src.write_text(json.dumps(GOOD), encoding="utf-8")
    assert main(["render", str(src), "-o", str(tmp_path / "out"), "--format", "rtf"]) == 2
    assert "unknown output format 'rtf' (choose from pdf, docx, html)" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_one_bad_file_in_a_batch_writes_nothing(tmp_path, capsys):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(GOOD), encoding="utf-8")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({k: v for k, v in GOOD.items() if k != "council"}), encoding="utf-8")
    assert main(["render", str(good), str(bad), "-o", str(tmp_path / "out"), "--format", "pdf"]) == 2
    assert capsys.readouterr().err.strip() == f"make-report: error: {bad}:1: council: required field is missing: expected a mapping with name, logo"
    assert not (tmp_path / "out").exists()


def test_check_validates_without_writing(tmp_path, capsys):
    src = ROOT / "examples" / "dudley-2005-partnership-strategy" / "report.yaml"
    assert main(["check", str(src)]) == 0
    assert capsys.readouterr().out.strip() == f"{src}: ok"


def test_html_option_writes_the_intermediate(tmp_path):
    src = tmp_path / "r.json"
    src.write_text(json.dumps(GOOD), encoding="utf-8")
    assert main(["render", str(src), "-o", str(tmp_path), "--format", "pdf", "--html", "--quiet"]) == 0
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert '<html lang="en-GB">' in html and "<title>Test report</title>" in html


def test_unwritable_output_folder_is_one_line_exit_2(tmp_path, capsys):
    src = tmp_path / "r.json"
    src.write_text(json.dumps(GOOD), encoding="utf-8")
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x", encoding="utf-8")
    assert main(["render", str(src), "-o", str(blocker / "out"), "--format", "pdf"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("make-report: error: ") and "Traceback" not in err[0]


def test_an_internal_bug_is_one_line_exit_1(tmp_path, capsys, monkeypatch):
    import cabinet_reports.cli as cli

    def boom(args):
        raise ZeroDivisionError("simulated bug")
    monkeypatch.setattr(cli, "_check", boom)
    monkeypatch.delenv("MAKE_REPORT_DEBUG", raising=False)
    assert main(["check", "whatever.yaml"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == ("make-report: internal error: ZeroDivisionError: simulated bug "
                   "(this is a bug; set MAKE_REPORT_DEBUG=1 for the traceback)")


def test_malformed_source_date_epoch_is_one_line_exit_2(tmp_path, capsys, monkeypatch):
    src = tmp_path / "r.json"
    src.write_text(json.dumps(GOOD), encoding="utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    assert main(["render", str(src), "-o", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.strip() == (
        "make-report: error: SOURCE_DATE_EPOCH: SOURCE_DATE_EPOCH must be a whole number of seconds since 1970, "
        "not 'yesterday'")
    assert not (tmp_path / "out").exists()


def test_a_missing_logo_in_a_batch_is_caught_before_anything_is_written(tmp_path, capsys):
    good = tmp_path / "a.json"
    good.write_text(json.dumps(GOOD), encoding="utf-8")
    bad = tmp_path / "b.yaml"
    bad.write_text("council:\n  name: X\n  logo: missing.png\nmeeting: {body: Cabinet, date: 2026-01-14}\ntitle: T\n"
                   "sections:\n  purpose: [x]\n  recommendations: [y]\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["check", str(bad)]) == 2
    assert capsys.readouterr().err.strip() == f"make-report: error: {bad}:3: council.logo: logo file not found"
    assert main(["render", str(good), str(bad), "-o", str(out), "--format", "pdf"]) == 2
    assert not out.exists()


def test_a_failing_format_leaves_previous_outputs_untouched(tmp_path, monkeypatch):
    import cabinet_reports.renderers.docx as docx_renderer

    src = tmp_path / "r.json"
    src.write_text(json.dumps(GOOD), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "r.pdf").write_bytes(b"previous pdf")

    def broken(*args, **kwargs):
        raise RuntimeError("renderer crashed")
    monkeypatch.setattr(docx_renderer, "render_docx", broken)
    assert main(["render", str(src), "-o", str(out)]) == 1
    assert sorted(p.name for p in out.iterdir()) == ["r.pdf"]
    assert (out / "r.pdf").read_bytes() == b"previous pdf"


def test_a_logo_symlinked_outside_the_report_folder_is_refused(tmp_path, capsys):
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"\x89PNG\r\n\x1a\n")
    folder = tmp_path / "report"
    folder.mkdir()
    (folder / "logo.png").symlink_to(outside)
    src = folder / "r.yaml"
    src.write_text("council:\n  name: X\n  logo: logo.png\nmeeting: {body: Cabinet, date: 2026-01-14}\ntitle: T\n"
                   "sections: {purpose: [x], recommendations: [y]}\n", encoding="utf-8")
    assert main(["render", str(src), "-o", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"make-report: error: {src}:3: council.logo: the logo must be a file inside the report's folder "
        "(it links outside it)")
    assert not (tmp_path / "out").exists()


def test_a_document_dated_before_1970_keeps_its_date_in_pdf_and_docx(tmp_path):
    import docx
    import pypdf

    src = tmp_path / "r.json"
    src.write_text(json.dumps(dict(GOOD, meeting={"body": "Cabinet", "date": "1965-04-01"})), encoding="utf-8")
    assert main(["render", str(src), "-o", str(tmp_path), "--quiet"]) == 0
    assert str(pypdf.PdfReader(tmp_path / "r.pdf").metadata["/CreationDate"]).startswith("D:19650401")
    assert docx.Document(str(tmp_path / "r.docx")).core_properties.created.date().isoformat() == "1965-04-01"


def test_logo_alt_text_is_the_same_in_pdf_html_and_docx(tmp_path):
    import zipfile

    from PIL import Image

    Image.new("RGB", (40, 20), (0, 90, 160)).save(tmp_path / "logo.png")
    src = tmp_path / "r.yaml"
    src.write_text("council:\n  name: Test Borough Council\n  logo: logo.png\nmeeting: {body: Cabinet, date: 2026-01-14}\n"
                   "title: T\nsections: {purpose: [x], recommendations: [y]}\n", encoding="utf-8")
    assert main(["render", str(src), "-o", str(tmp_path / "out"), "--html", "--quiet"]) == 0
    html = (tmp_path / "out" / "r.html").read_text(encoding="utf-8")
    assert 'alt="Test Borough Council logo"' in html
    with zipfile.ZipFile(tmp_path / "out" / "r.docx") as docx_zip:
        assert 'descr="Test Borough Council logo"' in docx_zip.read("word/document.xml").decode("utf-8")
