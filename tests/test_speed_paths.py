"""What the fast paths import and reuse, and that reusing changes no output.

No timings (they live in benchmarks/): these tests read ``sys.modules`` of a fresh process
that ran the command line, the bytes written, and the fonts pdffonts finds in a PDF.
- ``check`` and a PDF-only ``render`` never import python-docx, pikepdf, pypdf, rich or
  holidays; ``--version`` imports neither pydantic nor Jinja.
- ``make-report`` run as its own program lays the PDF out in a worker process
  (renderers/pdf_worker.py) and writes the same bytes as an in-process render.
- A second render in one process (a preview loop: cached Theme, shared FontConfiguration)
  gives the same bytes as the first; a changed theme file is seen; two themes never share
  fonts.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cabinet_reports.api import build, load_report, render_bytes, render_options, resolve_theme
from cabinet_reports.cli import main
from cabinet_reports.errors import RenderError
from readers import require

ROOT = Path(__file__).resolve().parent.parent
HEAVY = {"docx", "pikepdf", "pypdf", "rich", "holidays"}
SMALL = {"council": {"name": "Small Borough Council"}, "meeting": {"body": "Cabinet", "date": "2026-01-14"},
         "title": "A small report", "sections": {"purpose": ["To test the fast paths."],
                                                 "recommendations": ["That Cabinet notes the report."]}}

# Runs the command line in a fresh interpreter, then prints the top-level modules it imported.
PROBE = """
import json, sys
from cabinet_reports.cli import main
args = json.loads(sys.argv[1])
try:
    code = main(args)
except SystemExit as exc:  # --version and --help exit from argparse
    code = exc.code
print(json.dumps({"code": code, "modules": sorted({m.split('.')[0] for m in sys.modules})}))
"""


def probe(args: list[str], cwd: Path) -> tuple[int, set[str]]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args)], cwd=cwd, env=env, check=True,
                         capture_output=True, text=True).stdout
    result = json.loads(out.splitlines()[-1])
    return result["code"], set(result["modules"])


@pytest.fixture
def small(tmp_path) -> Path:
    src = tmp_path / "small.json"
    src.write_text(json.dumps(SMALL), encoding="utf-8")
    return src


def test_check_imports_no_renderer(small, tmp_path):
    code, modules = probe(["check", str(small)], tmp_path)
    assert code == 0
    assert modules & (HEAVY | {"weasyprint"}) == set()


def test_pdf_only_render_imports_no_docx_pypdf_or_rich(small, tmp_path):
    code, modules = probe(["render", str(small), "-o", str(tmp_path / "out"), "--format", "pdf", "--quiet"], tmp_path)
    assert code == 0 and (tmp_path / "out" / "small.pdf").is_file()
    assert "weasyprint" in modules  # the render really ran in this process
    # pikepdf is the one heavy module a PDF needs: the PDF/UA post-pass (renderers/pdf_tags.py)
    # rewrites WeasyPrint's structure tree with it. `check` above still imports none.
    assert modules & (HEAVY - {"pikepdf"}) == set()


def test_version_imports_neither_pydantic_nor_jinja(tmp_path):
    code, modules = probe(["--version"], tmp_path)
    assert code == 0
    assert modules & {"pydantic", "jinja2", "yaml", "markdown_it", "weasyprint"} == set()


# A fresh process running make-report as its own program: argv comes from the command line.
OWN_PROGRAM = """
import json, sys
from cabinet_reports.cli import main
sys.argv = ["make-report", *json.loads(sys.argv[1])]
code = main()
print(json.dumps({"code": code, "weasyprint": "weasyprint" in sys.modules}))
"""


def test_the_command_line_lays_the_pdf_out_in_a_worker_with_the_same_bytes(small, tmp_path):
    worker_out, in_process = tmp_path / "worker", tmp_path / "in-process"
    args = ["render", str(small), "--html", "--quiet"]
    temp = tmp_path / "temp"  # where WeasyPrint keeps its fonts while it runs
    temp.mkdir()
    env = dict(os.environ, TMPDIR=str(temp),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    out = subprocess.run([sys.executable, "-c", OWN_PROGRAM, json.dumps(args + ["-o", str(worker_out)])],
                         cwd=tmp_path, env=env, check=True, capture_output=True, text=True).stdout
    result = json.loads(out.splitlines()[-1])
    assert result["code"] == 0
    assert list(temp.iterdir()) == []  # the worker removed its font folder before it exited
    # With a second CPU the layout ran in the worker: this process never imported WeasyPrint.
    two_cpus = len(os.sched_getaffinity(0)) >= 2
    assert result["weasyprint"] is not two_cpus
    assert main(args + ["-o", str(in_process)]) == 0
    for name in ("small.pdf", "small.docx", "small.html"):
        assert (worker_out / name).read_bytes() == (in_process / name).read_bytes(), name


def test_a_worker_reports_an_expected_error_as_the_same_error(monkeypatch):
    from cabinet_reports.renderers.pdf_worker import PdfWorker

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "soon")  # the worker inherits it and refuses it
    worker = PdfWorker()
    try:
        pdf = worker.submit("<html lang='en'><title>T</title><p>x</p></html>", resolve_theme(None).dirs,
                            dt.date(2026, 1, 14), None)
        with pytest.raises(RenderError) as caught:
            pdf()
    finally:
        worker.close()
    assert caught.value.lines() == [
        "SOURCE_DATE_EPOCH: SOURCE_DATE_EPOCH must be a whole number of seconds since 1970, not 'soon'"]


def test_a_worker_started_after_weasyprint_gives_the_same_bytes_and_reports_bugs():
    """A process that has imported WeasyPrint starts a fresh interpreter, not a fork."""
    import weasyprint  # noqa: F401 - the state under test

    from cabinet_reports.renderers.pdf import pdf_from_html
    from cabinet_reports.renderers.pdf_worker import PdfWorker

    html, theme, day = "<html lang='en'><title>T</title><p>Text</p></html>", resolve_theme(None), dt.date(2026, 1, 14)
    worker = PdfWorker()
    try:
        assert worker.submit(html, theme.dirs, day, None)() == pdf_from_html(html, theme, day)
        not_a_date = worker.submit(html, theme.dirs, None, None)
        with pytest.raises(RuntimeError, match="in the PDF worker: AttributeError") as caught:
            not_a_date()
    finally:
        worker.close()
    assert "Traceback" in "".join(caught.value.__notes__)


def test_a_worker_stopped_during_a_layout_leaves_no_font_folder(tmp_path, monkeypatch):
    """After an error elsewhere (or Ctrl-C) the main process stops the worker at once."""
    import tempfile
    import time

    from cabinet_reports.renderers.pdf_worker import PdfWorker

    monkeypatch.setenv("TMPDIR", str(tmp_path))  # a spawned worker reads it
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # a forked one inherits it
    theme = resolve_theme(None)
    font = theme.find("fonts/LiberationSans-Regular.ttf").as_uri()
    fonts = f"<style>@font-face {{ font-family: T; src: url({font}) }} body {{ font-family: T }}</style>"
    long_html = f"<html lang='en'><title>T</title>{fonts}" + "<p>A paragraph of text to lay out.</p>" * 3000 + "</html>"
    worker = PdfWorker()
    try:
        worker.submit(long_html, theme.dirs, dt.date(2026, 1, 14), None)
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob("weasyprint-*")) and time.monotonic() < deadline:
            time.sleep(0.01)  # until the worker has loaded the theme's fonts
        assert list(tmp_path.glob("weasyprint-*")), "the worker never loaded the fonts"
        time.sleep(0.5)  # into the layout, whose objects hold the font configuration
    finally:
        worker.close(now=True)
    assert list(tmp_path.glob("weasyprint-*")) == []


def test_a_second_render_in_one_process_gives_the_same_bytes(small):
    report = load_report(small)
    first = render_bytes(report, "pdf"), render_bytes(report, "docx")
    second = render_bytes(load_report(small), "pdf"), render_bytes(load_report(small), "docx")
    assert first == second


def test_a_cached_theme_sees_a_changed_theme_file(tmp_path):
    theme_dir = tmp_path / "theme"
    theme_dir.mkdir()
    (theme_dir / "theme.yaml").write_text("words: {page_footer: 'Page {page}'}\n", encoding="utf-8")
    first = resolve_theme(theme_dir)
    assert resolve_theme(theme_dir) is first  # parsed once while nothing changed
    (theme_dir / "theme.yaml").write_text("words: {page_footer: 'Tudalen {page}'}\n", encoding="utf-8")
    os.utime(theme_dir / "theme.yaml", ns=(0, 10**18))  # a new time even on a coarse clock
    again = resolve_theme(theme_dir)
    assert again is not first and again.word("page_footer") == "Tudalen {page}"
    (theme_dir / "report.html").write_text("x", encoding="utf-8")  # a new override file counts too
    assert resolve_theme(theme_dir) is not again


def word_width(pdf: Path, word: str) -> float:
    """Return the width in points of the first occurrence of ``word``, as poppler measures it."""
    import re

    out = subprocess.run([require("pdftotext"), "-bbox", str(pdf), "-"], check=True, capture_output=True,
                         text=True).stdout
    m = re.search(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">' + re.escape(word) + "<", out)
    assert m, f"{word!r} not found in {pdf.name}"
    return float(m.group(2)) - float(m.group(1))


def test_two_themes_in_one_process_never_share_fonts(small, tmp_path):
    """Fonts register by family name: a font configuration shared between themes would let
    the first theme's "Report Sans" answer for the second's."""
    builtin = resolve_theme(None)
    bold_only = tmp_path / "bold-only"
    (bold_only / "fonts").mkdir(parents=True)
    # This theme's regular face is the bold font file, under the same family name.
    shutil.copy(builtin.find("fonts/LiberationSans-Bold.ttf"), bold_only / "fonts" / "LiberationSans-Regular.ttf")
    report = load_report(small)
    widths = {}
    for name, theme in (("builtin", builtin), ("bold-only", bold_only), ("builtin again", builtin)):
        pdf = tmp_path / f"{name}.pdf"
        pdf.write_bytes(render_bytes(report, "pdf", theme=theme))
        widths[name] = word_width(pdf, "paths.")  # in a regular-weight paragraph
    assert widths["bold-only"] > widths["builtin"] * 1.03  # bold glyphs are wider
    assert widths["builtin again"] == widths["builtin"]


def test_a_worker_drops_a_reply_nobody_read_before_the_next_report():
    """A render that fails after submitting its PDF (its DOCX, say) never reads the reply:
    in a worker kept for a watch session the next report must get its own PDF, not that one."""
    from cabinet_reports.renderers.pdf import pdf_from_html
    from cabinet_reports.renderers.pdf_worker import PdfWorker

    theme, day = resolve_theme(None), dt.date(2026, 1, 14)
    first, second = ("<html lang='en'><title>T</title><p>" + text + "</p></html>" for text in ("First", "Second"))
    worker = PdfWorker()
    try:
        worker.submit(first, theme.dirs, day, None)  # never read
        assert worker.submit(second, theme.dirs, day, None)() == pdf_from_html(second, theme, day)
    finally:
        worker.close()


def test_watch_with_a_pdf_worker_writes_the_same_bytes_and_sees_a_changed_theme_font(small, tmp_path):
    """`make-report watch` lays PDFs out in a worker kept for the session. A font file of the
    theme replaced under the same name must reach it, as a new Theme reaches an in-process
    render (WeasyPrint keeps a loaded @font-face by its URL for as long as its font
    configuration lives)."""
    from cabinet_reports.watch import Preview

    builtin = resolve_theme(None)
    theme_dir = tmp_path / "theme"
    (theme_dir / "fonts").mkdir(parents=True)
    regular = theme_dir / "fonts" / "LiberationSans-Regular.ttf"
    shutil.copy(builtin.find("fonts/LiberationSans-Regular.ttf"), regular)
    out = tmp_path / "out"
    outputs = []
    with Preview(small, out, formats="pdf,docx", theme_dir=theme_dir, say=lambda _: None, warn=print,
                 pdf_worker=True) as preview:
        for font in ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf"):
            shutil.copy(builtin.find(f"fonts/{font}"), regular)
            os.utime(regular, ns=(0, 10**18 + len(outputs)))  # a new time even on a coarse clock
            preview.changed([str(regular)])
            pdf = tmp_path / f"{len(outputs)}.pdf"
            pdf.write_bytes((out / "small.pdf").read_bytes())
            # The same bytes as an in-process render with the theme as it is now.
            assert pdf.read_bytes() == render_bytes(load_report(small), "pdf", theme=theme_dir)
            assert (out / "small.docx").read_bytes() == render_bytes(load_report(small), "docx", theme=theme_dir)
            outputs.append(word_width(pdf, "paths."))
        used_worker = preview._worker is not None
    assert used_worker is (len(os.sched_getaffinity(0)) >= 2)
    assert outputs[1] > outputs[0] * 1.03  # the bold file, now under the regular name, was used


def test_watch_goes_on_in_process_when_its_pdf_worker_is_killed_mid_render(small, tmp_path, monkeypatch):
    """A worker killed from outside (or by the out-of-memory killer) while it lays a PDF out:
    the render is done again in this process and the session goes on, instead of ending with an
    internal error."""
    import signal

    from cabinet_reports.renderers import pdf_worker
    from cabinet_reports.watch import Preview

    monkeypatch.setattr(pdf_worker, "_usable_cpus", lambda: 2)
    submit = pdf_worker.PdfWorker.submit

    def killed_after_sending(self, *args, **kwargs):
        receive = submit(self, *args, **kwargs)
        os.kill(self._process.pid, signal.SIGKILL)
        self._process.join(10)
        return receive

    monkeypatch.setattr(pdf_worker.PdfWorker, "submit", killed_after_sending)
    out = tmp_path / "out"
    with Preview(small, out, formats="pdf,docx", say=lambda _: None, warn=print, pdf_worker=True) as preview:
        assert preview.render()
        assert (out / "small.pdf").read_bytes() == render_bytes(load_report(small), "pdf")
        assert preview.render()  # the session goes on, in this process
        assert preview._worker is None


def test_make_report_render_as_a_program_exits_with_its_outputs_and_no_font_folder(small, tmp_path):
    """`make-report render` exits without the interpreter's teardown: the outputs, the lines
    it prints and the exit code stay, and WeasyPrint's font folder is still removed, by the
    worker or (with one CPU, no worker) by this process's atexit handler."""
    def one_cpu() -> None:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    for cpus, preexec in (("all", None), ("one", one_cpu)):
        temp = tmp_path / f"temp-{cpus}"
        temp.mkdir()
        env = dict(os.environ, TMPDIR=str(temp),
                   PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        out = tmp_path / f"out-{cpus}"
        run = subprocess.run([sys.executable, "-m", "cabinet_reports", "render", str(small), "-o", str(out)],
                             cwd=tmp_path, env=env, capture_output=True, text=True, preexec_fn=preexec)
        assert (run.returncode, run.stderr) == (0, ""), cpus
        assert run.stdout.splitlines() == [f"wrote {out / 'small.pdf'}", f"wrote {out / 'small.docx'}"]
        assert (out / "small.pdf").read_bytes() == render_bytes(load_report(small), "pdf")
        assert list(temp.iterdir()) == [], cpus
        bad = subprocess.run([sys.executable, "-m", "cabinet_reports", "render", "missing.yaml", "-o", str(out)],
                             cwd=tmp_path, env=env, capture_output=True, text=True, preexec_fn=preexec)
        assert (bad.returncode, bad.stderr) == (2, "make-report: error: missing.yaml: file not found\n")


def test_weasyprints_html_parser_builds_each_scanning_regex_once_and_parses_the_same(monkeypatch):
    """tinyhtml5 2.1 caches each regex its input stream scans with under the regex itself, so
    every lookup missed and built it again (about 40 % of parsing a report's HTML). Mended,
    the second parse of a report builds none, and its tree is the one tinyhtml5 parses alone."""
    import re
    import xml.etree.ElementTree as ET

    import tinyhtml5
    from tinyhtml5 import inputstream

    from cabinet_reports.renderers import pdf
    from cabinet_reports.renderers.pdf import render_html

    theme = resolve_theme(None)
    report = load_report(ROOT / "examples" / "dudley-2005-partnership-strategy" / "report.yaml", theme)
    html = render_html(build(report, theme), theme, render_options(report))
    monkeypatch.setattr(inputstream, "characters_until_regex", {})  # as tinyhtml5 starts
    pdf._mend_html_parser.cache_clear()
    built = []
    missing = pdf._CharacterRuns.__missing__
    monkeypatch.setattr(pdf._CharacterRuns, "__missing__", lambda self, key: (built.append(key), missing(self, key))[1])
    try:
        plain = ET.tostring(tinyhtml5.parse(html))
        keys = list(inputstream.characters_until_regex)
        assert keys and all(isinstance(key[0], re.Pattern) for key in keys), \
            "tinyhtml5 caches under its lookup key now: the mend can go"
        pdf._mend_html_parser()
        assert isinstance(inputstream.characters_until_regex, pdf._CharacterRuns)
        assert ET.tostring(tinyhtml5.parse(html)) == plain and built
        built.clear()
        assert ET.tostring(tinyhtml5.parse(html)) == plain
        assert built == []  # every regex of the second parse came from the cache
    finally:
        pdf._mend_html_parser.cache_clear()  # the next weasy_html mends the restored cache again


def test_the_html_parser_mend_leaves_a_tinyhtml5_it_does_not_know_as_it_is(monkeypatch):
    """A tinyhtml5 whose cache works, or whose input stream scans some other way, keeps its own
    cache: the mend is a speed-up, never a reason for a render to fail."""
    from tinyhtml5 import inputstream

    from cabinet_reports.renderers import pdf

    def mended_with(chars_until):
        own: dict = {}
        monkeypatch.setattr(inputstream, "characters_until_regex", own)
        monkeypatch.setattr(inputstream.HTMLUnicodeInputStream, "chars_until", chars_until)
        pdf._mend_html_parser.cache_clear()
        pdf._mend_html_parser()
        return inputstream.characters_until_regex is not own

    real = inputstream.HTMLUnicodeInputStream.chars_until

    def fixed(self, characters, opposite=False):  # as tinyhtml5 means to: the entry under its key
        result = real(self, characters, opposite)
        inputstream.characters_until_regex[(characters, opposite)] = object()
        return result

    def changed(self, characters):  # another signature
        raise TypeError("chars_until() takes 2 positional arguments")

    try:
        assert not mended_with(fixed)
        assert not mended_with(changed)
        assert mended_with(real)
    finally:
        monkeypatch.undo()
        pdf._mend_html_parser.cache_clear()
