"""The local pool of worker processes a pack renders on, startable before the library is imported.

Takes the number of jobs (and, for :class:`WarmPool`, what the build is about to render);
gives a ``ProcessPoolExecutor`` whose workers die with this process. Light to import (the
standard library and the PDF worker's CPU count; the rest is imported where it is used):
``make-report pack`` starts its :class:`WarmPool` first thing, so that the first
worker imports WeasyPrint and lays out a first page while this process imports the models and
the pack's stages (0.7 s) and then reads the reports; :mod:`.pack.items` renders on it.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import sys
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from .renderers.pdf_worker import _usable_cpus

__all__ = ["PARALLEL_THRESHOLD", "WarmPool", "local_pool", "report_items", "stop_pool", "stopped_on_error", "warm_up"]

# Below this many renders, a process pool costs more (start-up, imports) than it saves.
PARALLEL_THRESHOLD = 4
GATE_WAIT = 30.0  # seconds a gated warm-up waits for the gate at most (see warm_up)
GC_YOUNG = 20_000  # a worker's young-generation collection threshold (see _die_with_parent)

_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_GATE = None  # in a worker: the pool's gate, which holds back the later warm-ups (see WarmPool)


def _die_with_parent(parent: int, gate=None) -> None:
    """Worker initializer: make this worker die when the process that started it dies.

    A pack build killed (SIGKILL, or SIGTERM from a service manager) must not leave workers
    laying out reports for nobody. On Linux the kernel sends them SIGKILL when the parent
    goes (prctl PR_SET_PDEATHSIG); elsewhere the parent's shutdown is all there is. It also
    keeps the pool's ``gate`` for :func:`warm_up` and sets the collector's thresholds (below).
    """
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - a libc without prctl
            pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
    global _GATE
    _GATE = gate  # the pool's gate (see WarmPool), for warm_up
    # A report's render allocates millions of short-lived objects: at Python's default (a young
    # collection every 700 allocations, about 690 collections a 10-page report) the collector
    # took 0.08 s of its 1.4 s; every 20,000, 0.02-0.03 s, for about 12 MB more at the peak.
    gc.set_threshold(GC_YOUNG, 10, 10)


def local_pool(jobs: int, gate=None) -> ProcessPoolExecutor:
    """Return a pool of ``jobs`` worker processes that die with this process.

    ``gate`` is the semaphore gated warm-ups wait for (see :class:`WarmPool`, :func:`warm_up`).
    """
    # spawn, not fork: forking a process that has threads is unsafe (and warns on 3.12+).
    return ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_die_with_parent, initargs=(os.getpid(), gate))


def stop_pool(pool: ProcessPoolExecutor, abort: bool) -> None:
    """Shut a pool down; on ``abort`` (an error or a signal) stop its workers at once."""
    if not abort:
        pool.shutdown(cancel_futures=True)
        return
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14+
    if terminate is not None:  # pragma: no cover - newer Pythons
        terminate()
        return
    # Before shutdown(), which forgets them: otherwise interpreter exit waits for every worker
    # to finish the report it is laying out.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(5)
    # Then let the pool's manager thread finish: at interpreter exit, Python 3.11 wakes every
    # such thread through a pipe the thread may be closing that moment ("OSError: Bad file
    # descriptor" on the user's terminal after Ctrl-C or SIGTERM; seen 2 in 40 SIGTERMs).
    if manager is not None:
        manager.join(5)


@dataclass
class WarmPool:
    """A local pool started before the reports are loaded, its workers warming up meanwhile.

    A rebuild that finds one report changed used to render it in this process after loading
    every report: WeasyPrint's import and a cold first layout (:func:`warm_up` says what)
    came on top of the loading (1.2-2.7 s for 40 reports). Started first, a worker does them
    on the other CPU while this process loads. The pool then also numbers and merges both
    packs, one on each worker, while this process makes the agendas.
    """

    pool: ProcessPoolExecutor
    ready: list[Future]  # each worker's warm-up (see warm_up)
    used: bool = False  # given work: stop it gently (else at once)
    gate: Any = None  # what the later workers' warm-ups wait for (see warm_rest), or None

    @classmethod
    def start(cls, executor: Executor | None, jobs: int | None, reports: int,
              theme_dir: str | None = None) -> WarmPool | None:
        """Start one for a pack of ``reports`` report items, if it can pay; else return None.

        It can when the reports are this library's to render (no caller's ``executor``), in
        worker processes (``jobs`` not 1), on a second CPU, and there are at least
        PARALLEL_THRESHOLD of them (fewer load too fast for the import to hide behind).
        ``theme_dir`` is the user's theme folder (None: the built-in theme), warmed up too.
        """
        cpus = _usable_cpus()
        if executor is not None or jobs == 1 or cpus < 2 or reports < PARALLEL_THRESHOLD:
            return None
        workers = jobs or cpus
        # A semaphore at 0 as a latch, not an Event: Event.set() waits, without a timeout, for
        # every waiter to wake, so a worker that died at the gate (a crash in the first one's
        # warm-up breaks the pool, which kills the others) would hang the build in warm_rest().
        gate = multiprocessing.get_context("spawn").Semaphore(0)
        pool = local_pool(workers, gate)
        try:
            # One warm-up a worker (usually each takes one): a spawn pool starts a process only for
            # work no idle one can take, so a second worker used to start cold at the first renders,
            # or, in a rebuild with one report to render, when the full pack's numbering came to it.
            # All but the first wait at the gate until the first is ready or this process has
            # loaded the reports.
            return cls(pool, [pool.submit(warm_up, theme_dir, n > 0) for n in range(workers)], gate=gate)
        except BaseException:  # Ctrl-C or SIGTERM while its processes start: none left behind
            stop_pool(pool, abort=True)
            raise

    def warm_rest(self) -> None:
        """Let the other workers warm up now: this process has loaded the reports (or, from
        :meth:`use`, has work for them).

        Warming every worker at once put three busy processes on two CPUs while this one
        loaded, and the first worker was ready about 0.5 s later: a rebuild with one report to
        render waits for exactly that worker. So the others wait until it is ready, or until
        this process is done loading, whichever comes first.
        """
        if self.gate is not None:
            open_gate(self.gate)

    def use(self) -> ProcessPoolExecutor:
        """Return the pool, to give it work."""
        self.used = True
        self.warm_rest()  # never a worker left waiting at the gate
        return self.pool

    def stop(self, abort: bool) -> None:
        """Shut the pool down (at once, on ``abort``)."""
        stop_pool(self.pool, abort)


def warm_up(theme_dir: str | None = None, gated: bool = False) -> None:
    """Make a new worker ready to render: imports, the theme, a first layout (runs in the worker).

    Only in a pool worker process, one task at a time: it makes WeasyPrint keep parsed theme
    stylesheets for the process (renderers.pdf_worker.keep_stylesheets), which a process
    rendering on several threads must not do.

    A worker's first render used to pay for more than imports: the theme (theme.yaml, the
    templates), fontconfig and Pango's first use of the theme's fonts — about as much again as
    the render itself. A ``gated`` warm-up first waits for the pool's gate (GATE_WAIT seconds
    at most), and imports python-docx too; the first worker's warm-up, not gated, opens the
    gate when it is done, even if it failed (and :meth:`WarmPool.warm_rest` when the reports
    are loaded, if that is sooner).
    """
    if gated and _GATE is not None:
        _through(_GATE)
    try:
        _warm_up(theme_dir, docx=gated)
    finally:
        if not gated and _GATE is not None:
            open_gate(_GATE)


def open_gate(gate) -> None:
    """Open a WarmPool's gate (a semaphore at 0): it never blocks, and opening it again is harmless."""
    gate.release()


def _through(gate) -> None:
    """Wait until ``gate`` is open (GATE_WAIT seconds at most), and leave it open for the next worker."""
    if gate.acquire(timeout=GATE_WAIT):
        gate.release()


def _warm_up(theme_dir: str | None, docx: bool = True) -> None:
    from . import pdfmerge  # noqa: F401 - imported for its import time
    from .api import resolve_theme
    from .cache_folder import keep_compiled
    from .pack import items  # noqa: F401 - what every job runs
    from .pack.furniture import footer_box
    from .renderers import html, pdf  # noqa: F401
    from .renderers.pdf_worker import keep_stylesheets

    pdf.warm_up()
    # One report at a time, on one thread: the theme's stylesheet, in every report's HTML, is
    # parsed once, as in make-report render's worker; parsed again, it also registered its
    # @font-face fonts with the worker's font configuration again, four for each report.
    keep_stylesheets()
    theme = resolve_theme(theme_dir, compiled_cache=keep_compiled())
    footer_box(theme, "style.css")  # one page laid out with the theme's stylesheet and fonts
    if docx:
        # Not in the first worker's (0.3 s): a rebuild with one report to render waits for that
        # worker, which then lays it out while the build's own process makes the DOCX
        # (pack.items.render_reports). The later, gated, warm-ups are off that path.
        from . import docx_tools
        from .renderers import docx as _docx  # noqa: F401 - the renderer every job runs

        docx_tools.open_reference(theme.find("reference.docx"))
    # What is loaded now lives as long as the worker: out of the collector's reach, each older-
    # generation collection during a render walks only the render's own objects (as the PDF
    # worker does, renderers/pdf_worker.py).
    gc.collect()
    gc.freeze()


@contextmanager
def stopped_on_error(warm: WarmPool | None) -> Iterator[None]:
    """Stop ``warm`` at once if the block raises (an error, Ctrl-C, SIGTERM); stopping twice is harmless."""
    try:
        yield
    except BaseException:
        if warm is not None:
            warm.stop(abort=True)
        raise


def report_items(meeting_path: str | Path) -> int:
    """Return how many report items a meeting file lists, at a glance (0 if it cannot tell).

    Only to decide whether a warm pool pays; the meeting is read and validated properly later.
    """
    from .errors import CabinetReportsError
    from .loader import load_file

    try:
        data, _ = load_file(meeting_path)
    except (CabinetReportsError, OSError):
        return 0
    items = data.get("items") if isinstance(data, dict) else None
    return sum(1 for it in items if isinstance(it, dict) and "report" in it) if isinstance(items, list) else 0


def user_theme_dir(theme: str | Path | None) -> str | None:
    """Return the user's theme folder as a worker is told it (what Theme.dirs[0] will be), or None."""
    return str(Path(theme).resolve()) if theme is not None else None
