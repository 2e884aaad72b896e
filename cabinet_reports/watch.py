"""Live preview: render a report once, then again every time it, its logo or the theme is saved.

:class:`Preview` keeps everything warm between renders in one process: WeasyPrint is imported
once, and the same :class:`~cabinet_reports.theme.Theme` object (parsed theme.yaml, compiled
templates, and whatever the renderers cache per theme, such as fonts) serves every render until
a file of the theme folder changes. ``make-report watch`` also keeps a PDF worker process
(renderers/pdf_worker.py) for as long as it watches: each PDF is laid out there while this
process loads, validates and numbers the report and renders the DOCX, which otherwise followed
the PDF layout one after the other (on two CPUs a PDF+DOCX re-render took 1.05 s; the PDF alone
is about 0.8 s of it). A re-render then takes about as long as the worker's PDF: this process's
part before the worker can start (loading the report, its HTML) is about 0.03 s, and its garbage
collections wait until the outputs are written. Each render goes through :func:`api.render_jobs`, which
writes all outputs atomically only after all of them rendered, so an invalid save prints its
located error and leaves the last good PDF in place.

What is watched: the folders holding the report and its logo (not recursively: a report
folder may be a big shared drive) and the user's theme folder with its sub-folders. Events for
other files there (the editor's swap files, the outputs themselves when OUTDIR is the report's
folder) are ignored. Folders are watched rather than files because editors save by writing a
new file and renaming it over the old one.
"""

from __future__ import annotations

import gc
import os
import time
from pathlib import Path
from typing import Callable, Iterable

from .api import parse_formats, prepare, render_jobs, resolve_theme
from .errors import CabinetReportsError, InputError, Problem
from .renderers.pdf_worker import PdfWorker, WorkerStopped, worker_helps
from .theme import Theme


class Preview:
    """One report rendered into one folder, again on demand, with the theme kept warm."""

    def __init__(self, report: str | Path, outdir: str | Path, *, formats: str | Iterable[str] = "pdf",
                 theme_dir: str | Path | None = None, say: Callable[[str], None] = print,
                 warn: Callable[[str], None] = print, pdf_worker: bool = False):
        """Prepare to render ``report`` into ``outdir``; nothing is rendered yet.

        With ``pdf_worker`` (the command line's choice: it owns its process) PDFs are laid out
        in a worker process when a second CPU is free; :meth:`close` stops it.
        """
        self.path = Path(report)  # as given, so problems name it as the user typed it
        self.report = self.path.absolute()
        self.outdir = Path(outdir)
        self._outputs = self.outdir.resolve()
        self.formats = parse_formats(formats)
        self.theme_dir = Path(theme_dir).resolve() if theme_dir is not None else None
        self.say, self.warn = say, warn
        self.theme: Theme | None = None
        self.logo: Path | None = None
        self._use_worker = pdf_worker and worker_helps(self.formats)
        self._worker: PdfWorker | None = None
        if not self.report.parent.is_dir():
            raise InputError(Problem("folder not found", str(self.report.parent)))

    def render(self) -> bool:
        """Render the report now; print what was written, or its located problems. Return success."""
        started = time.perf_counter()
        # With a worker (the command line's: it owns its process), this process's garbage
        # collections wait until the outputs are written: one before the HTML reached the
        # worker delayed the PDF by as long (a full collection here took 0.03-0.05 s).
        paused = self._use_worker and gc.isenabled()
        if paused:
            gc.disable()
        try:
            return self._render(started)
        finally:
            if paused:
                gc.enable()

    def _render(self, started: float) -> bool:
        try:
            if self.theme is None:
                self.theme = resolve_theme(self.theme_dir)
            worker = self._pdf_worker()  # started first: a new one imports WeasyPrint meanwhile
            job = prepare(self.path, self.theme)
            self.logo = job.options.logo
            try:
                written = render_jobs([job], self.outdir, formats=self.formats, theme=self.theme, pdf_worker=worker)
            except WorkerStopped:
                # Killed from outside (or out of memory) mid-render: the session goes on in this
                # process, and this render is done again here.
                self._stop_worker(now=True)  # and renders no more in a worker
                gc.enable()  # the PDF is laid out here now, its garbage collected as usual
                written = render_jobs([job], self.outdir, formats=self.formats, theme=self.theme)
        except CabinetReportsError as exc:
            for line in exc.lines():
                self.warn(f"make-report: error: {line}")
            return False
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            self.warn(f"make-report: error: {where}{exc.strerror or exc}")
            return False
        except BaseException:
            # Ctrl-C (or a bug) in the middle of a render may leave half a reply in the pipe:
            # the next render must not read it, so this worker goes.
            self._stop_worker(now=True)
            raise
        self.say(f"wrote {', '.join(map(str, written))} in {time.perf_counter() - started:.2f} s")
        return True

    def close(self) -> None:
        """Stop the PDF worker process, if one runs; later renders run in this process."""
        self._stop_worker()

    def __enter__(self) -> "Preview":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _pdf_worker(self) -> PdfWorker | None:
        """Return the session's PDF worker, started at the first render, or None to render here."""
        if self._worker is not None and not self._worker.alive():
            self._stop_worker(now=True)  # it died (killed from outside)
        if self._worker is None and self._use_worker:
            self._worker = PdfWorker()
        return self._worker

    def _stop_worker(self, *, now: bool = False) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            # The file watcher's threads run by now: a new worker forked from this process
            # could inherit a lock one of them holds. The rest of the session renders here.
            self._use_worker = False
            worker.close(now=now)

    def folders(self) -> set[Path]:
        """Return the folders to watch: the report's, the logo's, and the theme folder's tree."""
        found = {self.report.parent}
        if self.logo is not None:
            found.add(self.logo.parent)
        if self.theme_dir is not None:
            found.update(Path(d) for d, _, _ in os.walk(self.theme_dir))
        return found

    def in_theme(self, path: Path) -> bool:
        return self.theme_dir is not None and path.is_relative_to(self.theme_dir)

    def matters(self, _change: object, path: str) -> bool:
        """Return True for a change to the report, its logo or a theme file (a watchfiles filter)."""
        changed = Path(path)
        if changed == self.report or (self.logo is not None and changed == self.logo):
            return True
        # Our own outputs never count, even in a theme folder: each write would render again, for ever.
        return self.in_theme(changed) and not changed.is_relative_to(self._outputs)

    def changed(self, paths: Iterable[str]) -> None:
        """Render again after these files changed; a theme change reloads the theme first."""
        if any(self.in_theme(Path(p)) for p in paths):
            self.theme = None
        self.render()

    def watch(self, stop_event=None) -> None:
        """Render, then render again on every relevant save until ``stop_event`` is set or Ctrl-C.

        Ctrl-C raises KeyboardInterrupt out of here, between renders or during one; outputs are
        then either the last complete set or untouched.
        """
        import watchfiles

        self.render()
        while stop_event is None or not stop_event.is_set():
            folders = self.folders()
            for changes in watchfiles.watch(*sorted(folders), watch_filter=self.matters, recursive=False,
                                            stop_event=stop_event, debounce=400, step=50):
                self.changed(path for _, path in changes)
                if self.folders() != folders:
                    break  # a new logo folder or theme sub-folder: watch the new set
            else:
                return
