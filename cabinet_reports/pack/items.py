"""Stage 2 of a pack: render each report item once, on any executor, through the cache.

Takes the report items of one or more meetings; gives, for each, a :class:`RenderedReport`:
its PDF laid out once *without page numbers* (the pack draws them later, see
:mod:`.furniture`), its page count from that same layout, its DOCX, and for a public item the
draft of its web page (:mod:`.web` puts the pack's shared fonts into it). All are made from
the one numbered document the worker builds, on the worker, and cached together. For a
rebuild's one or two renders with a warm worker to spare, the DOCX and the draft are made in
the build's own process while the worker lays the report out, from the same text numbered
again (deterministic: the same bytes; :func:`render_reports`).

A render runs wherever the executor puts it: in this process (few reports), in a local pool
of worker processes (``--jobs``), or on any ``concurrent.futures.Executor`` — a Dask cluster's
``Client.get_executor()`` for a service that builds packs for many councils. A job is plain
data (:class:`ReportJob`: the report file's path, its effective classification, the theme
folder, ``SOURCE_DATE_EPOCH``), so it pickles; a worker loads, validates and numbers the report
itself, and must therefore see the same files (one machine, or a shared file system).
"""

from __future__ import annotations

import os
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Protocol

from ..models import Classification, Report
from ..pool import PARALLEL_THRESHOLD, WarmPool, local_pool, stop_pool
from ..renderers.html import Draft
from .cache import Cache, decode, encode

if TYPE_CHECKING:
    from ..document import Document
    from ..theme import Theme

__all__ = ["SPLIT_AT_MOST", "Progress", "RenderedReport", "ReportJob", "WarmPool", "local_pool", "render_report_job",
           "render_report_pdf", "render_report_rest", "render_reports"]


class Progress(Protocol):
    """What build_pack reports progress to (the CLI passes a rich progress bar)."""

    def start(self, total: int) -> None: ...
    def advance(self, description: str) -> None: ...


class _NoProgress:
    def start(self, total: int) -> None:
        pass

    def advance(self, description: str) -> None:
        pass


# A rebuild's renders split between a worker (the PDF) and the build's process (the DOCX and
# web draft) when there are at most this many (and a warm worker more): see render_reports.
SPLIT_AT_MOST = 2


# --------------------------------------------------------------------------- the job
@dataclass(frozen=True)
class ReportJob:
    """What a worker needs to render one report item: plain data only."""

    path: str  # the report file
    classification: dict  # its effective classification (an item's `exempt:` overrides a public report)
    theme_dir: str | None  # the user's theme folder (None: the built-in theme)
    epoch: str  # the caller's SOURCE_DATE_EPOCH ("" if unset): the moment every date of the render is stamped with
    agenda_item: dict | None = None  # its place on the agenda (load.agenda_item_options): number and stamp
    web: dict | None = None  # a public item's web page: {"back": [address, text]} of its link to the agenda
    # The digest of the text the build loaded (loader.Source.digest), or None: a file saved again
    # since is refused, not rendered, so every output of the item comes from the text checked.
    digest: str | None = None


@dataclass(frozen=True)
class RenderedReport:
    """A report item rendered once: PDF without page numbers, its page count, DOCX, web page draft."""

    pdf: bytes
    pages: int
    docx: bytes
    web: Draft | None = None  # public items only (ReportJob.web)

    def encode(self) -> bytes:
        """Return the bytes the cache stores."""
        meta: dict[str, Any] = {"pages": self.pages}
        blobs = {"pdf": self.pdf, "docx": self.docx}
        if self.web is not None:
            meta["web"] = {"nonce": self.web.nonce, "fonts": list(self.web.fonts), "characters": self.web.characters}
            blobs["web"] = self.web.html.encode("utf-8")
        return encode(meta, blobs)

    @classmethod
    def decode(cls, payload: bytes) -> RenderedReport:
        """Rebuild from :meth:`encode`'s bytes."""
        meta, blobs = decode(payload)
        web = None
        if "web" in meta:
            web = Draft(blobs["web"].decode("utf-8"), str(meta["web"]["nonce"]), tuple(meta["web"]["fonts"]),
                        str(meta["web"]["characters"]))
        return cls(blobs["pdf"], int(meta["pages"]), blobs["docx"], web)


def render_report_job(job: ReportJob) -> RenderedReport:
    """Render one report item (runs in a worker): one layout gives the page count and the PDF."""
    from ..renderers import source_date

    # The caller's SOURCE_DATE_EPOCH, for this render only: this worker may be a thread
    # rendering other callers' jobs at the same time.
    with source_date(job.epoch):
        numbered = _numbered(job)
        return RenderedReport(*_pdf(*numbered), *_docx_and_web(job, *numbered))


def render_report_pdf(job: ReportJob) -> tuple[bytes, int]:
    """Render one report item's PDF and return it with its page count (runs in a worker).

    What :func:`render_report_job` makes but the DOCX and the web draft: for a build that
    makes those itself (:func:`render_report_rest`) while the worker lays the report out.
    """
    from ..renderers import source_date

    with source_date(job.epoch):
        return _pdf(*_numbered(job))


def render_report_rest(job: ReportJob) -> tuple[bytes, Draft | None]:
    """Render one report item's DOCX and its web draft (None for a Part B item's job, which asks none).

    The rest of :func:`render_report_job` beside :func:`render_report_pdf`: the report is
    numbered again from the same text (``ReportJob.digest``), and numbering is deterministic,
    so together they make the same bytes. Never imports WeasyPrint.
    """
    from ..renderers import source_date

    with source_date(job.epoch):
        return _docx_and_web(job, *_numbered(job))


def _numbered(job: ReportJob) -> tuple[Theme, Report, Document]:
    """Load, validate and number a job's report: return its theme, its report and its numbered document."""
    from ..api import _source_of, build, load_report, resolve_theme
    from ..cache_folder import keep_compiled
    from ..errors import InputError, Problem
    from .load import _with_classification, for_agenda_item, stamp_document

    # The worker's one Theme for that folder (until a theme file changes): a new Theme per
    # job compiled the templates again (0.13 s a report) and built a new font configuration.
    # Started by make-report, it loads them compiled, as the build's own process does.
    theme = resolve_theme(job.theme_dir, compiled_cache=keep_compiled())
    report = load_report(job.path, theme)
    source = _source_of(report)
    if job.digest is not None and source is not None and source.digest != job.digest:
        # Saved again while the pack was being built: its cache key, its checks and (with the
        # DOCX made in the build's process) its other outputs are of the text loaded before.
        raise InputError(Problem("the file changed while the pack was being built: build the pack again",
                                 job.path))
    classification = Classification(**job.classification)
    if report.classification != classification:
        report = _with_classification(report, classification)
    if job.agenda_item is not None:
        report = for_agenda_item(report, job.agenda_item)
    doc = build(report, theme)
    if job.agenda_item is not None:
        doc = stamp_document(doc, job.agenda_item["stamp"])
    return theme, report, doc


def _pdf(theme: Theme, report: Report, doc: Document) -> tuple[bytes, int]:
    from ..api import render_options
    from ..renderers.pdf import layout, write_tagged_pdf

    document = layout(doc, theme, render_options(report, page_numbers=False))
    return write_tagged_pdf(document, doc.date), len(document.pages)


def _docx_and_web(job: ReportJob, theme: Theme, report: Report, doc: Document) -> tuple[bytes, Draft | None]:
    from ..api import render_options
    from ..errors import CabinetReportsError
    from ..renderers import get_renderer
    from ..renderers.html import draft_page, report_page

    docx = get_renderer("docx")(doc, theme, render_options(report))
    web = None
    if job.web is not None:
        if doc.exempt:  # never HTML of an exempt report (the pack asks only for public items)
            raise CabinetReportsError(f"{job.path}: a Part B report has no web page")
        href, text = job.web["back"]
        web = draft_page(theme, report_page(doc, render_options(report), back=(href, text)))
    return docx, web


# --------------------------------------------------------------------------- executors
class _InProcess(Executor):
    """Runs each call at once in this process: no pool for a handful of renders."""

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            if not isinstance(exc, Exception):
                raise
            future.set_exception(exc)
        return future


@contextmanager
def executor_for(executor: Executor | None, jobs: int | None, work: int,
                 warm: WarmPool | None = None) -> Iterator[Executor]:
    """Yield the executor to render ``work`` reports on: the caller's, a local pool, or this process.

    A caller's executor is used as given and left running, and so is a ``warm`` pool (its
    owner stops it): started before the reports were loaded, its worker is ahead of this
    process, which would have to import WeasyPrint and lay out a first page from cold.
    Otherwise ``jobs`` worker processes (default: one per CPU once there are
    PARALLEL_THRESHOLD renders) in a pool that is shut down afterwards, and stopped at once on
    an error or a signal.
    """
    if executor is not None:
        yield executor
        return
    if warm is not None:
        yield warm.use()
        return
    if jobs is None:
        jobs = min(os.cpu_count() or 1, work) if work >= PARALLEL_THRESHOLD else 1
    jobs = min(jobs, work)
    if jobs <= 1:
        yield _InProcess()
        return
    pool = local_pool(jobs)
    try:
        yield pool
    except BaseException:
        stop_pool(pool, abort=True)
        raise
    stop_pool(pool, abort=False)


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


def render_reports(jobs: Mapping[str, ReportJob], cache: Cache | None, executor: Executor | None,
                   workers: int | None, progress: Progress,
                   meanwhile: Callable[[], None] | None = None, warm: WarmPool | None = None) -> dict[str, RenderedReport]:
    """Render every job (keyed by its cache key) once: from the cache, or on the executor.

    Identical jobs (the same report in two meetings of a batch) share one key and one render.
    ``meanwhile`` runs in this process once every render is submitted, before waiting for
    them: work that needs no page count is done while the workers lay the reports out.
    ``warm`` is a pool started before loading (:class:`WarmPool`), used if there is one; with
    at most SPLIT_AT_MOST renders and a warm worker to spare, its workers make only the PDFs
    and this process the DOCX and web drafts, after ``meanwhile``.
    """
    done: dict[str, RenderedReport] = {}
    todo = []
    for key, job in jobs.items():
        payload = cache.get(key) if cache is not None else None
        if payload is not None:
            try:
                found = RenderedReport.decode(payload)
                if (found.web is None) != (job.web is None):  # a web page wanted exactly for public items
                    raise ValueError("a render without the web page its job asks for")
                done[key] = found
                progress.advance(f"reusing {os.path.basename(job.path)}")
                continue
            except (ValueError, KeyError, TypeError):  # checksummed, so only an older format
                pass
        todo.append((key, job))
    if todo:
        # A render or two, and a warm worker to spare (a rebuild after one report changed): a
        # worker lays each out and writes its PDF, and this process, otherwise waiting, makes
        # its DOCX and web draft meanwhile (0.15-0.25 s of the one render a rebuild waits for).
        # Not for more: this process makes them one after another, after `meanwhile`.
        split = executor is None and warm is not None and len(todo) <= min(SPLIT_AT_MOST, len(warm.ready) - 1)
        with executor_for(executor, workers, len(todo), warm) as runner:
            futures = [(key, job, runner.submit(render_report_pdf if split else render_report_job, job))
                       for key, job in todo]
            try:
                if meanwhile is not None:
                    meanwhile()
                rest = {key: render_report_rest(job) for key, job in todo} if split else {}
                for key, job, future in futures:
                    done[key] = RenderedReport(*wait_for(future), *rest[key]) if split else wait_for(future)
                    if cache is not None:
                        cache.put(key, done[key].encode())
                    progress.advance(f"rendering {os.path.basename(job.path)}")
            except BaseException:
                # The build has failed: renders not started yet must not go on using a caller's
                # executor (a Dask cluster, a thread pool) after build_pack has returned. A pool
                # of ours is stopped by its owner, which cancels them: cancelled here, before its
                # workers are terminated, Python 3.11's pool would fail them again in its
                # manager thread (InvalidStateError printed on the user's terminal).
                if executor is not None:
                    for _, _, future in futures:
                        future.cancel()
                raise
    elif meanwhile is not None:
        meanwhile()
    return done
