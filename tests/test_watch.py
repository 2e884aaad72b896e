"""`make-report watch`: a real process watching a real folder, driven by real file saves.

The watcher runs as ``python -m cabinet_reports watch`` on a copy of the Salford example. Each
step saves a file the way editors do (a new file renamed over the old one), waits, with
generous timeouts for a loaded machine, for the watcher to say it wrote (or refused), and reads
the PDF back with pdftotext. Nothing here is timed: speed is in benchmarks/watch_benchmark.py.
"""

from __future__ import annotations

import gc
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

from readers import normalise, pdftotext

ROOT = Path(__file__).resolve().parent.parent
SALFORD = ROOT / "examples" / "salford-2003-progress-note" / "report.yaml"
PATIENCE = 180  # seconds for one step: a first render on a busy two-core machine can take ten


def save(path: Path, text: str) -> None:
    """Save like an editor: write a new file beside it and rename it over the old one."""
    tmp = path.with_name(f".{path.name}.swp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class Watcher:
    """A `make-report watch` process whose output goes to files the test can poll."""

    def __init__(self, cwd: Path, *args: str):
        self.out, self.err = cwd / "watch.out", cwd / "watch.err"
        # As a command typed at a terminal: Ctrl-C (SIGINT) not ignored. A test run started in
        # the background (`pytest … &` in a script, nohup) ignores it, and every child would
        # inherit that, so stop() could not stop the watcher (it hung until killed).
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            with self.out.open("w") as out, self.err.open("w") as err:
                self.process = subprocess.Popen([sys.executable, "-m", "cabinet_reports", "watch", *args],
                                                cwd=cwd, stdout=out, stderr=err)
        finally:
            if previous is not None:  # None: a handler set outside Python, which cannot be put back
                signal.signal(signal.SIGINT, previous)

    def stdout(self) -> str:
        return self.out.read_text(encoding="utf-8")

    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8")

    def writes(self) -> int:
        return self.stdout().count("\nwrote ")

    def errors(self) -> list[str]:
        return [line for line in self.stderr().splitlines() if line.startswith("make-report: error: ")]

    def wait(self, what: str, done: Callable[[], bool]) -> None:
        deadline = time.monotonic() + PATIENCE
        while not done():
            if self.process.poll() is not None:
                pytest.fail(f"watch exited ({self.process.returncode}) waiting for {what}:\n"
                            f"{self.stdout()}\n{self.stderr()}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {what} after {PATIENCE} s:\n{self.stdout()}\n{self.stderr()}")
            time.sleep(0.2)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            return self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def watcher_factory():
    started: list[Watcher] = []

    def start(cwd: Path, *args: str) -> Watcher:
        started.append(Watcher(cwd, *args))
        return started[-1]
    yield start
    for w in started:  # a failed test must not leave a watcher running
        if w.process.poll() is None:
            w.process.kill()
            w.process.wait()


def test_watch_rerenders_on_save_keeps_the_last_good_pdf_and_stops_cleanly(tmp_path, watcher_factory):
    folder = tmp_path / "salford"
    folder.mkdir()
    report = folder / "report.yaml"
    shutil.copy(SALFORD, report)
    original = report.read_text(encoding="utf-8")
    pdf = folder / "out" / "salford.pdf"
    w = watcher_factory(folder, "report.yaml", "-o", "out")

    w.wait("first render", lambda: w.writes() == 1 and pdf.is_file())
    assert "Cabinet decision" in normalise(pdftotext(pdf))

    # A valid change: the new words are in the new PDF.
    save(report, original.replace("text: Cabinet decision", "text: Cabinet decision on the preferred partner"))
    w.wait("re-render after a valid save", lambda: w.writes() == 2)
    assert "Cabinet decision on the preferred partner" in normalise(pdftotext(pdf))
    good = pdf.read_bytes()
    good_mtime = pdf.stat().st_mtime_ns

    # An invalid change: one located error line, the last good PDF untouched, still watching.
    broken = original.replace("title: Strategic Partnership Project", "titel: Strategic Partnership Project")
    save(report, broken)
    w.wait("error line after an invalid save", lambda: len(w.errors()) == 1)
    line = next(i for i, text in enumerate(broken.splitlines(), 1) if text.startswith("titel:"))
    assert w.errors()[0].startswith(f"make-report: error: report.yaml:{line}: titel: unknown field 'titel'")
    assert pdf.read_bytes() == good and pdf.stat().st_mtime_ns == good_mtime
    assert sorted(p.name for p in pdf.parent.iterdir()) == ["salford.pdf"]  # no half-written file
    assert w.process.poll() is None

    # Fixed: a new output again.
    save(report, original.replace("text: Cabinet decision", "text: Cabinet decision in March"))
    w.wait("re-render after the fix", lambda: w.writes() == 3)
    text = normalise(pdftotext(pdf))
    assert "Cabinet decision in March" in text and "preferred partner" not in text

    assert w.stop() == 0
    assert w.stdout().splitlines()[-1] == "stopped watching"
    assert "Traceback" not in w.stderr() and len(w.errors()) == 1


def test_watch_follows_the_theme_folder_and_the_logo(tmp_path, watcher_factory):
    from PIL import Image

    folder = tmp_path / "salford"
    folder.mkdir()
    Image.new("RGB", (40, 20), (200, 0, 0)).save(folder / "logo.png")
    report = folder / "report.yaml"
    report.write_text(SALFORD.read_text(encoding="utf-8").replace(
        "  name: Salford City Council\n", "  name: Salford City Council\n  logo: logo.png\n"), encoding="utf-8")
    theme = tmp_path / "theme"
    theme.mkdir()
    (theme / "theme.yaml").write_text('words:\n  page_footer: "Page {page} of {pages}"\n', encoding="utf-8")
    pdf = tmp_path / "out" / "salford.pdf"
    w = watcher_factory(tmp_path, "salford/report.yaml", "-o", "out", "--theme", "theme")

    w.wait("first render", lambda: w.writes() == 1 and pdf.is_file())
    assert "Page 1 of" in normalise(pdftotext(pdf))
    first = pdf.read_bytes()

    # The theme changed: reloaded, and the new wording is in the PDF.
    save(theme / "theme.yaml", 'words:\n  page_footer: "Sheet {page} of {pages}"\n')
    w.wait("re-render after a theme save", lambda: w.writes() == 2)
    text = normalise(pdftotext(pdf))
    assert "Sheet 1 of" in text and "Page 1 of" not in text

    # The logo changed: rendered again with the new picture (the PDF's bytes change).
    before = pdf.read_bytes()
    Image.new("RGB", (40, 20), (0, 0, 200)).save(folder / ".logo.png.new", format="PNG")
    os.replace(folder / ".logo.png.new", folder / "logo.png")
    w.wait("re-render after a logo save", lambda: w.writes() == 3)
    assert pdf.read_bytes() not in (before, first)

    assert w.stop() == 0 and "Traceback" not in w.stderr()


def test_only_the_report_its_logo_and_the_theme_matter(tmp_path):
    """Other files in the watched folders, the outputs among them, never trigger a render (or a loop)."""
    from cabinet_reports.watch import Preview

    folder = tmp_path / "salford"
    (folder / "images").mkdir(parents=True)
    theme = tmp_path / "theme"
    (theme / "fonts").mkdir(parents=True)
    preview = Preview(folder / "report.yaml", folder, theme_dir=theme, say=lambda _: None, warn=lambda _: None)
    preview.logo = folder / "images" / "logo.png"
    assert preview.folders() == {folder, folder / "images", theme, theme / "fonts"}
    for path, matters in [(folder / "report.yaml", True), (folder / "images" / "logo.png", True),
                          (theme / "theme.yaml", True), (theme / "fonts" / "Sans.ttf", True),
                          (folder / "salford.pdf", False), (folder / ".report.yaml.swp", False),
                          (folder / "notes.txt", False), (folder / "images" / "other.png", False)]:
        assert preview.matters(None, str(path)) is matters, path
    # Outputs written inside the theme folder would otherwise render again on every write.
    inside = Preview(folder / "report.yaml", theme / "preview", theme_dir=theme, say=print, warn=print)
    assert inside.matters(None, str(theme / "preview" / "salford.pdf")) is False
    assert inside.matters(None, str(theme / "style.css")) is True


class RecordedRender:
    """Stands in for api.render_jobs: records the collector's state, then does what it is told."""

    def __init__(self, *outcomes):
        self.outcomes, self.collector = list(outcomes), []

    def __call__(self, jobs, outdir, *, formats, theme, pdf_worker=None):
        self.collector.append(("worker" if pdf_worker is not None else "here", gc.isenabled()))
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return []


class IdleWorker:
    """A PDF worker that is never asked for anything (render_jobs is recorded instead)."""

    def alive(self) -> bool:
        return True

    def close(self, *, now: bool = False) -> None:
        pass


@pytest.fixture
def recorded(monkeypatch, tmp_path):
    """A Preview of the Salford note whose renders are recorded, with a worker to use."""
    from cabinet_reports import watch
    from cabinet_reports.renderers import pdf_worker

    monkeypatch.setattr(pdf_worker, "_usable_cpus", lambda: 2)
    monkeypatch.setattr(watch, "PdfWorker", IdleWorker)

    def preview(*outcomes, worker=True):
        monkeypatch.setattr(watch, "render_jobs", RecordedRender(*outcomes))
        shown = []
        made = watch.Preview(SALFORD, tmp_path / "out", say=shown.append, warn=shown.append, pdf_worker=worker)
        return made, watch.render_jobs, shown
    return preview


def test_a_watch_render_pauses_the_collector_until_its_outputs_are_written(recorded):
    """The PDF worker starts on the HTML only once it is sent: a collection in this process
    before that (0.03-0.05 s) delayed the PDF by as long. After the render it runs again,
    whatever the render's outcome."""
    from cabinet_reports.errors import InputError, Problem

    preview, render, shown = recorded([], InputError(Problem("broken")), KeyboardInterrupt())
    assert preview.render() and gc.isenabled()
    assert not preview.render() and gc.isenabled()
    with pytest.raises(KeyboardInterrupt):
        preview.render()
    assert gc.isenabled()
    assert render.collector == [("worker", False)] * 3
    assert shown[1] == "make-report: error: broken"


def test_a_watch_render_without_a_worker_leaves_the_collector_alone(recorded):
    """A Python program's preview loop owns its process: its collector is not ours to pause."""
    preview, render, _ = recorded([], [], worker=False)
    assert preview.render() and preview.render()
    assert render.collector == [("here", True)] * 2


def test_the_render_done_again_here_after_the_worker_died_collects_as_usual(recorded):
    """That render lays the PDF out in this process: its garbage is collected while it does."""
    from cabinet_reports.renderers.pdf_worker import WorkerStopped

    preview, render, _ = recorded(WorkerStopped("killed"), [], [])
    assert preview.render() and preview.render()
    assert render.collector == [("worker", False), ("here", True), ("here", True)]
    assert gc.isenabled()
