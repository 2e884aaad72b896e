"""A second process that lays out the PDF while the first validates and writes the DOCX.

A cold ``make-report render`` spends about 0.6 s importing WeasyPrint and about 0.5 s
importing pydantic, validating, numbering and writing the HTML; then the PDF layout and the
DOCX follow each other. On a machine with two cores these can overlap: the command line
starts this worker first thing, the worker imports WeasyPrint while the main process
validates, then the main process sends each report's HTML and renders the DOCX while the
worker lays out the PDF. The worker runs :func:`renderers.pdf.pdf_from_html`, the same
function an in-process render ends with, so the bytes are identical.

Only the command line, running as its own program, starts a worker (see
:func:`maybe_pdf_worker`): a Python program that calls cabinet_reports owns its process, may
have imported WeasyPrint already, and renders in-process as before.

``make-report watch`` keeps its worker for the session, and a warm re-render waits for
nothing but the worker's PDF (its layout, writing and PDF/UA post-pass, about 0.7 s of CPU for
the Dudley example). So the worker does no more than it must while the main process waits:
its garbage collections wait until the reply is sent, and the theme's stylesheet, which every
report's HTML carries, is parsed once per theme generation (:func:`kept_stylesheets`).

This module imports nothing heavy at the top: it must start before the models are imported.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import os
import signal
import sys
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from ..errors import CabinetReportsError


class WorkerStopped(RuntimeError):
    """The worker process is gone (killed from outside, or out of memory) before it replied."""


class PdfWorker:
    """One worker process; ``submit`` a report's HTML, then call what it returns for the PDF."""

    def __init__(self) -> None:
        # On Linux, fork while this process has no WeasyPrint state (the command line starts
        # the worker before it imports anything heavy or starts a thread): it skips a new
        # interpreter's start-up (0.1 s). A process that has rendered already would hand its
        # font folders down, for the worker to remove on its way out; elsewhere fork is
        # unsafe (macOS system libraries) or missing. Then: a fresh interpreter.
        fork = sys.platform == "linux" and "weasyprint" not in sys.modules
        ctx = multiprocessing.get_context("fork" if fork else "spawn")
        self._conn, child = ctx.Pipe()
        # A forked worker inherits this end too and must close it, or it never sees the end of
        # its input when this process closes its own.
        inherited = self._conn if fork else None
        self._process = ctx.Process(target=_serve, args=(child, inherited), name="make-report-pdf", daemon=True)
        self._process.start()
        child.close()
        self._used = False
        self._pending = False  # a PDF was asked for and its reply not read yet

    def submit(self, html: str, dirs: Sequence[Path], day: dt.date, asset_dir: Path | None, *,
               generation: int = 0) -> Callable[[], bytes]:
        """Send one report's HTML to be laid out; return a function that waits for its PDF bytes.

        Call the returned function before the next ``submit``: one report at a time keeps both
        ends of the pipe from waiting on each other. A reply never asked for (the render that
        submitted it failed in another format) is read and dropped first, so it can never be
        taken for this report's PDF. ``generation`` tells the worker a theme with the same
        folders has changed (``Theme.generation``): it then loads the fonts afresh, as an
        in-process render does with the new Theme.
        """
        if self._pending:
            with contextlib.suppress(CabinetReportsError, RuntimeError):
                self._receive()
        self._used = True
        try:
            self._conn.send((html, tuple(dirs), generation, day, asset_dir))
        except (BrokenPipeError, ConnectionError) as exc:
            raise WorkerStopped(f"the PDF worker process stopped (exit code {self._process.exitcode})") from exc
        self._pending = True
        return self._receive

    def alive(self) -> bool:
        """Return True while the worker process runs."""
        return self._process.is_alive()

    def _receive(self) -> bytes:
        try:
            reply = self._conn.recv()
        except (EOFError, ConnectionError):
            raise WorkerStopped(f"the PDF worker process stopped (exit code {self._process.exitcode})") from None
        self._pending = False
        if reply[0] == "pdf":
            return reply[1]
        if reply[0] == "error":  # an expected error, such as an unreadable theme file
            from .. import errors

            raise getattr(errors, reply[1], CabinetReportsError)(reply[2])
        bug = RuntimeError(f"in the PDF worker: {reply[1]}")
        bug.add_note(reply[2])  # the worker's traceback, shown with MAKE_REPORT_DEBUG=1
        raise bug

    def close(self, *, now: bool = False) -> None:
        """Stop the worker: at the end of its input, or at once (``now``, after an error).

        Either way it removes the temporary folder WeasyPrint keeps the fonts in, then exits.
        """
        if now or not self._used:
            self._process.terminate()  # SIGTERM; before any render there is nothing to clean up
        self._conn.close()  # the worker sees the end of its input and exits
        self._process.join(30)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


@contextlib.contextmanager
def maybe_pdf_worker(formats: str, *, own_process: bool) -> Iterator[PdfWorker | None]:
    """Start a PDF worker if it would save time, and stop it on the way out.

    It does when this process is ``make-report`` itself (``own_process``), a PDF is wanted,
    WeasyPrint is not imported yet and a second CPU is free to import it.
    """
    worth_it = own_process and "weasyprint" not in sys.modules and worker_helps(formats.split(","))
    worker = PdfWorker() if worth_it else None
    try:
        yield worker
    except BaseException:
        if worker is not None:
            worker.close(now=True)
        raise
    if worker is not None:
        worker.close()


def worker_helps(formats: Iterable[str]) -> bool:
    """Return True when a worker would lay PDFs out beside this process: a PDF is among
    ``formats`` and this process may use a second CPU."""
    return "pdf" in {name.strip().lower() for name in formats} and _usable_cpus() >= 2


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _serve(conn, inherited) -> None:
    """The worker: import WeasyPrint, then turn each HTML received into PDF bytes."""
    if inherited is not None:
        inherited.close()
    import gc

    gc.enable()  # forked by `watch` in the middle of a render, it inherits a paused collector
    # Ctrl-C is the main process's to handle (it stops the worker). A SIGTERM while WeasyPrint
    # is still being imported ends the worker at once (no font folder exists yet; a SystemExit
    # raised inside the import machinery would be printed as "Exception ignored" on the user's
    # terminal). Later, SIGTERM unwinds the stack as an exception does, so the clean-up below
    # still removes WeasyPrint's font folders.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    from . import pdf

    signal.signal(signal.SIGTERM, _stop)
    try:
        _answer(conn, pdf)
    except SystemExit:
        pass  # stopped by SIGTERM; leaving this block drops the traceback and the layout it holds
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # let nothing interrupt the clean-up
        pdf.release_fonts()
    # The main process waits for this one to exit: skip the interpreter's teardown (0.1 s).
    sys.stderr.flush()
    os._exit(0)


def _stop(*_: object) -> None:
    """Unwind the worker on SIGTERM, with its stderr closed: the main process has stopped
    listening, and finalizers of objects the unwinding frees (a temporary file another process
    already removed) would otherwise print "Exception ignored" tracebacks on the user's terminal."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    sys.exit(0)


# At-rules a kept stylesheet must not contain: their effects reach beyond the stylesheet and
# its @page rules (other files, cascade layers, counter styles, colour profiles).
_NOT_KEPT = ("@import", "@layer", "@counter-style", "@color-profile")


def kept_stylesheets(parse: Callable):
    """Return a stand-in for WeasyPrint's ``CSS`` that parses each ``<style>`` text once per
    font configuration (that is, per theme generation) and gives the same stylesheet again.

    Every report's HTML carries the theme's stylesheet, and parsing it was about 0.025 s of
    each 0.7 s layout. WeasyPrint's stylesheets are only read once parsed (the base stylesheet
    under every theme is one object for all renders); what parsing adds to the render's own
    lists, its @page rules, is added again on each reuse, and its @font-face fonts are in the
    font configuration already; its parse warnings, if any, are logged once. Anything else (a
    stylesheet with the at-rules above, or a call with other arguments) is parsed as before.
    For this single-threaded worker only: a kept stylesheet is given the current render's lists.
    """
    import weakref

    kept: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # font configuration -> {key: (sheet, rules)}

    def css(*args, string=None, base_url=None, url_fetcher=None, media_type="print", font_config=None,
            counter_style=None, color_profiles=None, page_rules=None, layers=None, **other):
        arguments = dict(string=string, base_url=base_url, url_fetcher=url_fetcher, media_type=media_type,
                         font_config=font_config, counter_style=counter_style, color_profiles=color_profiles,
                         page_rules=page_rules, layers=layers, **other)
        if (args or other or not isinstance(string, str) or font_config is None or page_rules is None
                or layers is None or any(rule in string.lower() for rule in _NOT_KEPT)):
            return parse(*args, **arguments)
        sheets = kept.setdefault(font_config, {})
        key = (string, base_url, media_type)
        if key not in sheets:
            before = len(page_rules), list(layers), _names(counter_style), _names(color_profiles)
            sheet = parse(**arguments)
            # Kept only if its parse added nothing but @page rules (an at-rule above written
            # with a CSS escape, say, would have added a layer or a counter style).
            if (list(layers), _names(counter_style), _names(color_profiles)) == before[1:]:
                sheets[key] = sheet, page_rules[before[0]:]
            return sheet
        sheet, rules = sheets[key]
        page_rules.extend(rules)
        sheet.page_rules, sheet.layers = page_rules, layers  # as a fresh parse would hold them
        return sheet

    css.kept_stylesheets = True  # type: ignore[attr-defined]
    return css


def keep_stylesheets() -> None:
    """Make this process's WeasyPrint parse each theme stylesheet once (:func:`kept_stylesheets`).

    For a process that renders one report at a time, on one thread: this worker, and a pack's
    pool workers (pool.py). Installing it again changes nothing.
    """
    import weasyprint.css

    if not getattr(weasyprint.css.CSS, "kept_stylesheets", False):
        weasyprint.css.CSS = kept_stylesheets(weasyprint.css.CSS)  # the name its <style> elements are parsed by


def _names(table) -> list:
    # Each name with the object it stands for: a rule redefining an existing counter style (an
    # escaped "@counter\\-style decimal", say, which the text check above misses) changes the
    # table without adding a name.
    return [(name, id(value)) for name, value in table.items()] if table is not None else []


# The largest report HTML (in characters) whose render runs with the garbage collector paused.
# The Dudley example (7 pages) is 18,000; a table of 3,000 cells (20 pages) is 58,000 and kept
# 35 MB more garbage until the collection after its reply, so bigger reports collect as usual.
DEFERRED_GC_CHARS = 50_000


def _answer(conn, pdf) -> None:
    """Answer each request (a report's HTML) with its PDF bytes or its error, until EOF."""
    import gc
    import traceback

    pdf.warm_up()
    from . import pdf_tags  # noqa: F401 - pikepdf, for the PDF/UA post-pass: imported while it waits

    keep_stylesheets()

    # Everything imported so far lives as long as this process: moved out of the collector's
    # reach, the garbage collections during each layout, and the one that releases the fonts
    # at the end, walk only the layout's own objects (the collection at the end took 0.06 s
    # instead of 0.02 s).
    gc.freeze()
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        html, dirs, generation, day, asset_dir = request
        # A report's PDF is what the main process waits for: the collections a layout would
        # run (0.02-0.05 s of a 0.75 s re-render in `watch`) wait until its reply is sent.
        paused = len(html) <= DEFERRED_GC_CHARS and gc.isenabled()
        if paused:
            gc.disable()
        try:
            reply = ("pdf", pdf.pdf_from_html(html, pdf.theme_files(dirs, generation), day, asset_dir))
        except CabinetReportsError as exc:
            reply = ("error", type(exc).__name__, exc.problems)
        except Exception as exc:  # noqa: BLE001 - reported to the main process as a bug
            reply = ("bug", f"{type(exc).__name__}: {exc}", traceback.format_exc())
        try:
            conn.send(reply)
        except OSError:  # the main process stopped listening (it failed elsewhere)
            return
        finally:
            if paused:
                gc.enable()
        if paused:
            del request, html, reply
            gc.collect()  # while the main process writes the files and the officer reads them
