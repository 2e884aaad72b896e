"""Stage 3 of a pack: render each report item, serially or on a pool of worker processes.

Takes the report items and, for each, the pack page offset and total to print; gives each
report's page count (a layout without a PDF) or its rendered PDF bytes, in item order.
Workers receive only paths and plain data (the report file, its exemption, the theme folder)
and load the report themselves, so nothing unpicklable crosses the process boundary.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Protocol, Sequence

from ..api import build, load_report, render_bytes, render_options
from ..models import Classification, Report
from ..renderers.pdf import layout
from ..theme import Theme
from .load import PackItem, _with_classification

__all__ = ["Progress", "local_pool"]

# Below this many reports, a process pool costs more (start-up, imports) than it saves.
PARALLEL_THRESHOLD = 4


# --------------------------------------------------------------------------- progress
class Progress(Protocol):
    """What build_pack reports progress to (the CLI passes a rich progress bar)."""

    def start(self, total: int) -> None: ...
    def advance(self, description: str) -> None: ...


class _NoProgress:
    def start(self, total: int) -> None:
        pass

    def advance(self, description: str) -> None:
        pass


# --------------------------------------------------------------------------- rendering helpers
def _count_report(report: Report, theme: Theme) -> int:
    """Lay a report out (no PDF written) and return its page count."""
    return len(layout(build(report, theme), theme, render_options(report)).pages)


def _render_report(report: Report, theme: Theme, offset: int, total: int) -> bytes:
    return render_bytes(report, "pdf", theme, page_offset=offset, total_pages=total)


def _job(args: tuple) -> Any:
    """Worker for the process pool: (action, report path, exemption, theme dir, offset, total)."""
    action, path, exemption, theme_dir, offset, total = args
    theme = Theme(theme_dir)
    report = load_report(path)
    if exemption is not None and not report.classification.exempt:
        report = _with_classification(report, Classification(**exemption))
    if action == "count":
        return _count_report(report, theme)
    return _render_report(report, theme, offset, total)


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent(parent: int) -> None:
    """Worker initializer: make this worker die when the process that started it dies.

    A pack build killed (SIGKILL, or SIGTERM from a service manager) must not leave workers
    laying out reports for nobody. On Linux the kernel sends them SIGKILL when the parent
    goes (prctl PR_SET_PDEATHSIG); elsewhere the parent's shutdown is all there is.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - a libc without prctl
            pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def local_pool(jobs: int) -> ProcessPoolExecutor:
    """Return a pool of ``jobs`` worker processes that die with this process."""
    # spawn, not fork: forking a process that has threads is unsafe (and warns on 3.12+).
    return ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_die_with_parent, initargs=(os.getpid(),))


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
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(5)


def wait_for(future: Future) -> Any:
    """Return a future's result, waking up often enough for signal handlers to run.

    A signal (SIGTERM, Ctrl-C) may be delivered to one of the executor's threads; Python then
    runs its handler in the main thread only once that thread wakes, which a plain
    ``future.result()`` does not do until a worker has finished its report.
    """
    while True:
        try:
            return future.result(timeout=0.2)
        except TimeoutError:
            continue


class _Runner:
    """Runs report layouts and renders serially or in a pool of worker processes."""

    def __init__(self, theme: Theme, jobs: int):
        self.theme = theme
        self.jobs = jobs
        self.pool: ProcessPoolExecutor | None = local_pool(jobs) if jobs > 1 else None

    def close(self, abort: bool = False) -> None:
        if self.pool is not None:
            stop_pool(self.pool, abort)

    def run(self, action: str, work: Sequence[tuple[PackItem, int, int]], progress: Progress,
            label: str) -> list[Any]:
        if self.pool is None:
            out = []
            for item, offset, total in work:
                if action == "count":
                    out.append(_count_report(item.report, self.theme))
                else:
                    out.append(_render_report(item.report, self.theme, offset, total))
                progress.advance(f"{label} item {item.number}")
            return out
        theme_dir = str(self.theme.dirs[0]) if len(self.theme.dirs) > 1 else None
        futures = []
        for item, offset, total in work:
            exemption = item.exemption.model_dump() if item.exemption else None
            futures.append(self.pool.submit(_job, (action, str(item.path), exemption, theme_dir, offset, total)))
        out = []
        for (item, _, _), future in zip(work, futures):
            out.append(wait_for(future))
            progress.advance(f"{label} item {item.number}")
        return out

