"""Meeting packs: the agenda front sheet and every item's papers, as public and full packs.

    from cabinet_reports.pack import build_pack
    result = build_pack("examples/dudley-2005-cabinet/meeting.yaml", "out/")

writes ``agenda.pdf``, ``agenda.docx`` and ``agenda.html`` (the web agenda, linking every public
item's papers), ``public-pack.pdf``, ``full-pack.pdf`` and ``items/`` (one PDF per item with
papers, and a DOCX and a web page per public report), all or nothing. Part B item files (PDF
and DOCX, never HTML) go to ``items/part-b/``, never beside the public ones, so uploading
``items/`` (the files, not the folder inside it) publishes nothing exempt. :func:`build_packs` builds several
meetings in one call, sharing the worker processes (or any executor) and the cache.

The pipeline, one module a stage:

1. :mod:`.load` — **validate everything first.** The meeting file and every report are loaded
   and numbered; every problem of every item is collected (located in its own file) and
   raised together, before anything is rendered or written.
2. :mod:`.items` — **render each report once**, without page numbers, on an executor (this
   process, ``--jobs`` worker processes, or a Dask cluster) and through :mod:`.cache`: a
   report whose inputs have not changed since the last build is not rendered again. That one
   layout gives both its PDF and its page count; its DOCX and (public items) its web page's
   draft are made beside it. The local pool is started before stage 1 for a meeting of four
   or more reports (:class:`cabinet_reports.pool.WarmPool`; ``make-report`` starts it before it
   imports this package), so its first worker is ready when they are.
3. :mod:`.plan` — **number the pack.** From the page counts, every item's pages and the
   agenda's page references follow; the agenda is laid out until its own length is stable.
   A Part B item's public notice is laid out once, without page numbers, like the agenda.
   What needs no page count (the notices, a first agenda with placeholder references) is
   laid out in this process while the workers render (:func:`.plan.prepare_assembly`).
4. :mod:`.furniture` and :mod:`.assemble` — **page numbers, then the merge.** "Page N of M" is
   drawn over every page of the agenda, notices and reports as ``/Artifact /Pagination``
   content, looking exactly as the theme's own footer does (attached PDFs get a stamp, as
   supplied pages have no footer to match); :func:`cabinet_reports.pdfmerge.merge_pdfs` keeps
   every part's tags; one bookmark per item, each report's own bookmarks nested; procedural
   items get a bookmark to their entry on the agenda; with a local pool, the public and the
   full pack are each numbered and merged on a worker, at once (:func:`.assemble.number_and_merge`),
   while this process makes the agendas and web pages. :mod:`.web` writes the web agenda and finishes the public
   reports' web pages (their drafts from stage 2) with one shared font subset.
5. This module — **write** every output as one set with :func:`cabinet_reports.atomic.write_folder`:
   staged in a hidden folder, switched over through a journal (a killed run's switch is
   completed by the next run), and recorded in ``OUTDIR/.make-report-manifest.json`` so that
   files an earlier build wrote and this one does not — an item renumbered, removed, or now
   Part B — are removed. Files the tool did not write are never touched.

The public pack and the full pack are numbered separately (a Part B report is longer than the
one notice page that replaces it), and each has its own agenda whose references match it. A
report's render is the same in both: only the numbers drawn over it differ.
Only the public title and the Schedule 12A reason of a Part B item ever reach a public output.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from ..api import _source_of, output_stem, render_options, resolve_theme
from ..atomic import check_folder, check_targets, write_folder
from ..cache_folder import keep_compiled
from ..errors import CabinetReportsError, InputError, Problem
from ..pool import report_items, stopped_on_error
from ..renderers import source_date, source_date_setting
from ..theme import Theme
from .assemble import _stamp, filled, number_and_merge, pack_merge, sanitize_pdf
from .cache import (CACHE_FOLDER, Cache, CheckedReports, Memo, decode, default_cache_dir, encode, file_digest,
                    item_key, pack_key, remove_legacy_cache, theme_digest)
from .docx_agenda import agenda_docx
from .furniture import Numbered, number_pages
from .items import (Progress, RenderedReport, ReportJob, WarmPool, _InProcess, _NoProgress, render_reports,
                    wait_for)
from .load import LoadedMeeting, PackItem, agenda_item_options, load_meeting
from .plan import (AgendaContent, AgendaEntry, Prepared, agenda_content, number_pack, prepare_assembly,
                   publication_warnings)
from .web import web_jobs, web_names, web_pages

__all__ = ["AgendaContent", "AgendaEntry", "CACHE_FOLDER", "PackItem", "PackResult", "Progress", "agenda_content",
           "agenda_docx", "build_pack", "build_packs", "load_meeting", "LoadedMeeting", "publication_warnings"]

# Where the per-item files go: public items, and Part B items kept apart from them.
ITEMS_FOLDER = "items"
PART_B_FOLDER = "items/part-b"
# The stylesheets pages are laid out with, so their page numbers can match their look.
REPORT_CSS, PACK_CSS = "style.css", "agenda.css"


@dataclass
class PackResult:
    """What build_pack wrote and found."""

    files: list[Path]
    public_pages: int
    full_pages: int
    latest_publication: dt.date
    warnings: list[str]
    removed: list[Path] = field(default_factory=list)  # stale files an earlier build wrote
    folder: Path | None = None  # where this meeting's pack was written


def _item_stem(item: PackItem) -> str:
    """Return an item's file name without suffix, in items/ or (Part B) items/part-b/."""
    # Part B files live in their own folder (and say so in their names): a clerk who uploads
    # every file in items/ publishes no exempt paper. Only the public title names a file.
    folder = PART_B_FOLDER if item.exempt else ITEMS_FOLDER
    return f"{folder}/{item.number:02d}-" + ("not-for-publication-" if item.exempt else "") + \
        _slug(item.shown_title(True))


def _item_stems(loaded: LoadedMeeting) -> dict[int, str]:
    """Return each item with papers' file stem, by item number."""
    return {item.number: _item_stem(item) for item in loaded.items if item.has_papers}


def _output_names(loaded: LoadedMeeting) -> list[str]:
    """Return the name of every file a meeting's pack writes."""
    names = ["public-pack.pdf", "full-pack.pdf", "agenda.pdf", "agenda.docx"]
    for item in loaded.items:
        if item.has_papers:
            names.append(_item_stem(item) + ".pdf")
            if item.kind == "report":
                names.append(_item_stem(item) + ".docx")
    return names + web_names(loaded, _item_stems(loaded))


def _slug(text: str) -> str:
    slug = "-".join(filter(None, re.sub(r"[^a-z0-9]+", "-", text.lower()).split("-")))
    if len(slug) > 50:
        slug = slug[:51].rsplit("-", 1)[0]
    return slug or "item"


CacheOption = bool | str | Path | Cache | None


def build_pack(meeting_path: str | Path, outdir: str | Path, *, theme: Theme | str | Path | None = None,
               published_on: dt.date | None = None, progress: Progress | None = None,
               jobs: int | None = None, warn: Callable[[str], None] | None = None,
               executor: Executor | None = None, cache: CacheOption = True, strict: bool = False,
               warm_pool: WarmPool | None = None) -> PackResult:
    """Build a meeting's agenda, public pack, full pack and item files into ``outdir``.

    Every input is validated before anything is rendered; every output is rendered in memory
    and written at the end as one set. Warnings (publication date, key decisions without
    forward plan reference, untagged attachments, the consistency checks of
    :mod:`.consistency`) go to ``warn`` as they are found and are also returned; with
    ``strict`` any warning is an error (raised before anything is rendered or written).
    Reports render on ``executor`` (any ``concurrent.futures.Executor``) or, by default, on
    ``jobs`` local worker processes. ``cache`` is True for the user's cache folder
    (:func:`.cache.default_cache_dir`), a folder (never inside ``outdir``: it holds Part B
    renders), a :class:`.cache.Cache`, or False for none; the outputs are the same bytes with
    or without it. ``warm_pool`` is a :class:`cabinet_reports.pool.WarmPool` the caller started
    before importing this package (the command line does: its first worker imports WeasyPrint
    while this process imports the models); the build uses it and stops it, whatever happens
    (at once, unused, when an ``executor`` is given too).
    """
    with stopped_on_error(warm_pool):
        outdir = Path(outdir)
        pairs = [(Path(meeting_path), outdir)]
    return _build(pairs, outdir, theme=theme, published_on=published_on, progress=progress, jobs=jobs, warn=warn,
                  executor=executor, cache=cache, strict=strict, warm=warm_pool)[0]


def build_packs(meeting_paths: Sequence[str | Path], outdir: str | Path, *, theme: Theme | str | Path | None = None,
                published_on: dt.date | None = None, progress: Progress | None = None,
                jobs: int | None = None, warn: Callable[[str], None] | None = None,
                executor: Executor | None = None, cache: CacheOption = True,
                strict: bool = False, warm_pool: WarmPool | None = None) -> list[PackResult]:
    """Build several meetings in one call, each into ``outdir/<meeting name>/``.

    As :func:`build_pack`, sharing one executor and one cache: a report on
    several agendas is rendered once when it is the same item of the same-named meeting on both
    (its render carries its item number and stamp). The folder name is the meeting file's stem (its folder's
    name for a file called ``meeting.yaml``). All meetings are validated before any is built.
    """
    with stopped_on_error(warm_pool):
        outdir = Path(outdir)
        paths = [Path(p) for p in meeting_paths]
        stems = [output_stem(p) for p in paths]
        clashes = sorted({s for s in stems if stems.count(s) > 1})
        if clashes:
            raise InputError(Problem(f"several meetings would be written to {', '.join(clashes)}: "
                                     "rename the files or build them separately"))
    return _build([(p, outdir / stem) for p, stem in zip(paths, stems)], outdir, theme=theme,
                  published_on=published_on, progress=progress, jobs=jobs, warn=warn, executor=executor, cache=cache,
                  strict=strict, warm=warm_pool)


def _open_cache(cache: CacheOption, outdir: Path) -> Cache | None:
    if cache is None or cache is False:
        return None
    store = cache if isinstance(cache, Cache) else Cache(default_cache_dir() if cache is True else Path(cache))
    if _inside(store.folder, outdir):
        # Whoever uploads the output folder would publish the Part B renders cached there.
        raise InputError(Problem(f"the cache folder {store.folder} is inside the output folder {outdir}: it holds "
                                 "Part B renders, so it must be kept elsewhere (--cache-dir), or use --no-cache",
                                 field="cache"))
    store.secure()
    return store


def _inside(folder: Path, outdir: Path) -> bool:
    """Return True when ``folder`` is ``outdir`` or below it, by path or by file identity.

    By identity too: on a case-insensitive disk "Out/cache" is inside "out", and a bind mount
    or a symlink can give one folder two names.
    """
    if folder.resolve().is_relative_to(outdir.resolve()):
        return True
    if not outdir.exists():
        return False
    for path in (folder, *folder.parents):
        try:
            if path.exists() and os.path.samefile(path, outdir):
                return True
        except OSError:
            continue
    return False


@dataclass
class _Meeting:
    """One meeting on its way through the pipeline."""

    path: Path
    folder: Path
    loaded: LoadedMeeting
    latest: dt.date
    warnings: list[str]
    keys: dict[int, str] = field(default_factory=dict)  # report item number -> its render's cache key
    pack_key: str = ""
    outputs: dict[str, bytes] | None = None
    pages: tuple[int, int] = (0, 0)


def _build(pairs: list[tuple[Path, Path]], outdir: Path, *, theme, published_on, progress, jobs, warn,
           executor, cache, strict=False, warm: WarmPool | None = None) -> list[PackResult]:
    if warm is not None and executor is not None:  # the caller's executor renders: a pool of ours would idle
        warm.stop(abort=True)
        warm = None
    try:
        # make-report (not --no-cache) loads the theme's templates compiled, here and in its workers.
        theme = resolve_theme(theme, compiled_cache=keep_compiled())
        progress = progress or _NoProgress()
        store = _open_cache(cache, outdir)
        for _, folder in pairs:
            check_folder(folder)
        if warm is None:  # started before the reports load, so that its first worker imports WeasyPrint meanwhile
            warm = WarmPool.start(executor, jobs, sum(report_items(path) for path, _ in pairs),
                                  _user_theme_dir(theme))
        meetings = _make(pairs, outdir, theme, published_on, progress, jobs, warn, executor, store, strict, warm)
    except BaseException:
        if warm is not None:
            warm.stop(abort=True)
        raise
    if warm is not None:
        warm.stop(abort=not warm.used)  # unused (nothing to render): its worker may still be importing
    results = []
    for m in meetings:
        progress.advance("writing")
        files, removed = write_folder(m.folder, m.outputs)
        results.append(PackResult(files, m.pages[0], m.pages[1], m.latest, m.warnings, removed, m.folder))
    for folder in dict.fromkeys([outdir] + [m.folder for m in meetings]):
        remove_legacy_cache(folder)  # Part B renders an earlier version cached in the output folder
    if store is not None:
        store.prune()
    return results


def _user_theme_dir(theme: Theme) -> str | None:
    """Return the user's theme folder, as a worker is told it (None: the built-in theme alone)."""
    return str(theme.dirs[0]) if len(theme.dirs) > 1 else None


def _make(pairs: list[tuple[Path, Path]], outdir: Path, theme: Theme, published_on, progress: Progress, jobs,
          warn, executor, store: Cache | None, strict: bool, warm: WarmPool | None) -> list[_Meeting]:
    """Load every meeting, render its reports and assemble its outputs (in memory)."""
    theme_hash = theme_digest(theme)
    meetings = _load(pairs, theme, published_on, warn, CheckedReports(store, theme_hash) if store is not None else None)
    count = sum(len(m.warnings) for m in meetings)
    if strict and count:
        raise InputError(Problem(f"{count} warning{'s' if count != 1 else ''} (above), so nothing was written",
                                 field="--strict"))
    for m in meetings:  # a folder in the way of an output: say so now, not after the renders
        check_targets(m.folder, _output_names(m.loaded))
    jobs_by_key: dict[str, ReportJob] = {}
    for m in meetings:
        attachments = []
        webs = web_jobs(m.loaded, theme, _item_stems(m.loaded))
        for item in m.loaded.items:
            if item.kind == "report":
                m.keys[item.number] = item_key(item.path, render_options(item.report).logo,
                                               item.report.classification.model_dump(mode="json"),
                                               public=not item.exempt, theme_hash=theme_hash,
                                               options={"agenda_item": agenda_item_options(item, m.loaded.meeting),
                                                        "web": webs[item.number]})
            elif item.kind == "pdf":
                attachments.append(file_digest(item.path))
        m.pack_key = pack_key(m.path, attachments, [m.keys.get(it.number, "") for it in m.loaded.items],
                              theme_hash, published_on.isoformat() if published_on else None)
        if store is not None and (payload := store.get(m.pack_key)) is not None:
            meta, m.outputs = decode(payload)
            m.pages = (int(meta["public_pages"]), int(meta["full_pages"]))
            continue
        for item in m.loaded.items:
            if item.kind == "report":
                source = _source_of(item.report)
                jobs_by_key[m.keys[item.number]] = ReportJob(
                    str(item.path), item.report.classification.model_dump(mode="json"),
                    _user_theme_dir(theme), _epoch(),
                    agenda_item_options(item, m.loaded.meeting), webs[item.number],
                    source.digest if source is not None else None)
    if warm is not None and (jobs_by_key or any(m.outputs is None for m in meetings)):
        # The reports are loaded and there is work: the other workers may warm up (if the first has not let them).
        warm.warm_rest()
    # One step per progress.advance() below, so the bar ends exactly at 100 %: each report
    # rendered or reused (once however many meetings list it); per meeting built, numbering
    # each pack (the full pack is numbered separately only when anything is Part B), merging
    # both packs (2) and the standalone agenda (1); per meeting reused whole, 1; writing, 1 each.
    steps = len(jobs_by_key) + len(meetings)
    for m in meetings:
        steps += 1 if m.outputs is not None else (2 if _has_part_b(m.loaded) else 1) + 2 + 1
    progress.start(steps)
    prepared: dict[int, Prepared] = {}

    def prepare() -> None:  # while the reports render
        for i, m in enumerate(meetings):
            if m.outputs is None:
                prepared[i] = prepare_assembly(m.loaded, theme, published_on, Memo(store, theme_hash))
        if prepared:
            # For agenda_docx: python-docx's import (0.3 s) here, where this process would wait,
            # not beside the two workers' numbering and merging.
            from .. import docx_tools  # noqa: F401

    rendered = render_reports(jobs_by_key, store, executor, jobs, progress, meanwhile=prepare, warm=warm)
    for i, m in enumerate(meetings):
        if m.outputs is not None:
            progress.advance("reusing the pack")
            continue
        m.outputs, m.pages = _assemble(m.loaded, theme, {n: rendered[k] for n, k in m.keys.items()},
                                       published_on, progress, Memo(store, theme_hash), prepared[i],
                                       warm.use() if warm is not None else None)
        if store is not None:
            store.put(m.pack_key, encode({"public_pages": m.pages[0], "full_pages": m.pages[1]}, m.outputs))
    return meetings


def _epoch() -> str:
    return source_date_setting()  # the caller's (its thread's, see renderers.source_date)


def _load(pairs: list[tuple[Path, Path]], theme: Theme, published_on: dt.date | None,
          warn: Callable[[str], None] | None, checked: CheckedReports | None) -> list[_Meeting]:
    """Load and validate every meeting (and its reports); raise one error listing every problem."""
    meetings, problems = [], []
    for path, folder in pairs:
        try:
            loaded = load_meeting(path, theme, checked=checked)
        except CabinetReportsError as exc:
            problems.extend(exc.problems)
            continue
        latest, pub_warnings = publication_warnings(loaded.meeting, published_on)
        if len(pairs) > 1:  # say which meeting a publication warning is about
            pub_warnings = [f"{path}: {line}" for line in pub_warnings]
        warnings = loaded.warnings + pub_warnings
        if warn:
            for line in warnings:
                warn(line)
        meetings.append(_Meeting(path, folder, loaded, latest, warnings))
    if problems:
        raise InputError(problems)
    return meetings


def _bare(loaded: LoadedMeeting, rendered: dict[int, RenderedReport], notices: dict[int, tuple[bytes, int]],
          public: bool) -> dict[int, tuple[bytes, int, str]]:
    """Return each part of a pack to number: item -> (PDF without numbers, pages, stylesheet)."""
    bare = {}
    for item in loaded.items:
        if item.exempt and public and item.has_papers:
            bare[item.number] = (*notices[item.number], PACK_CSS)
        elif item.kind == "report":
            bare[item.number] = (rendered[item.number].pdf, rendered[item.number].pages, REPORT_CSS)
    return bare


def _plan_pack(loaded: LoadedMeeting, theme: Theme, public: bool, bare: dict[int, tuple[bytes, int, str]],
               published_on: dt.date | None, memo: Memo, guess: int) -> tuple:
    """Number one pack from its parts' page counts: return its plan, what to number, and each item's slot.

    A slot is an index into what to number (the agenda is 0) or, for an attached PDF, its
    bytes already stamped with the pack's page numbers.
    """
    pages = {n: count for n, (_, count, _) in bare.items()}
    pages.update({it.number: it.pages for it in loaded.items if it.kind == "pdf" and not (it.exempt and public)})
    plan = number_pack(loaded, theme, public, pages, published_on, memo, guess)
    numbered = [Numbered(plan.agenda.pdf, 1, PACK_CSS, plan.agenda.pages)] + \
               [Numbered(pdf, plan.starts[n][0], css, count) for n, (pdf, count, css) in bare.items()]
    slots: dict[int, int | bytes] = {n: i for i, n in enumerate(bare, start=1)}
    for item in loaded.items:
        if item.kind == "pdf" and not (item.exempt and public):
            slots[item.number] = _stamp(loaded, item, theme, plan.starts[item.number][0] - 1, plan.total,
                                        marking=item.exempt)
    return plan, numbered, slots


def _merge_inputs(loaded: LoadedMeeting, theme: Theme, public: bool, plan, slots: dict[int, int | bytes]) -> tuple:
    """Return what merges one pack: its parts (PDFs still empty), each one's slot, its title and language."""
    merge, title, lang = pack_merge(loaded, theme, dataclasses.replace(plan.agenda, pdf=b""),
                                    dict.fromkeys(slots, b""), public)
    order = [0] + [slots[it.number] for it in loaded.items if it.has_papers]
    return merge, order, title, lang


def plan_number_and_merge(theme: Theme | str | None, epoch: str, loaded: LoadedMeeting, public: bool,
                          bare: dict[int, tuple[bytes, int, str]], published_on: dt.date | None, memo: Memo,
                          guess: int) -> tuple:
    """Plan, number and merge one pack (may run in a worker): return its plan, slots, numbered parts and the pack.

    ``theme`` is a Theme, or its folder for a worker (None: the built-in theme)."""
    with source_date(epoch):
        theme = resolve_theme(theme)
        plan, numbered, slots = _plan_pack(loaded, theme, public, bare, published_on, memo, guess)
        merge, order, title, lang = _merge_inputs(loaded, theme, public, plan, slots)
        pdfs, pack = number_and_merge(theme, epoch, numbered, plan.total, loaded.meeting.date, memo,
                                      merge, order, title, lang)
    return plan, slots, pdfs, pack


def _has_part_b(loaded: LoadedMeeting) -> bool:
    # With any Part B item the full pack differs, if only in its agenda (which shows a Part B
    # procedural item's real title and text).
    return any(it.exempt for it in loaded.items)


def _assemble(loaded: LoadedMeeting, theme: Theme, rendered: dict[int, RenderedReport], published_on: dt.date | None,
              progress: Progress, memo: Memo, prepared: Prepared,
              pool: Executor | None = None) -> tuple[dict[str, bytes], tuple[int, int]]:
    """Number, furnish and merge one meeting's packs; return every output and the packs' lengths.

    ``pool`` is this build's own worker pool, if any: both packs are numbered and merged there.
    """
    meeting = loaded.meeting
    notices = prepared.notices
    part_b = _has_part_b(loaded)
    # Each pack's numbering and merge is one task: on the pool's workers, the public and the full
    # pack at once (3.5 s each for 40 reports), while this process makes the agendas and web
    # pages; without a pool, each runs here as it is submitted.
    runner = pool if pool is not None else _InProcess()
    worker_theme = _user_theme_dir(theme) if pool is not None else theme
    # Both packs' agendas start from the placeholder agenda's length.
    guess = prepared.agenda_guess
    if part_b:  # the full pack is planned (its own agenda) on its worker too, from the start
        # Without the reports' models, which planning never reads: 1.7 MB pickled for 40 reports,
        # about 0.15 s between the last render and that worker's start.
        plain = dataclasses.replace(loaded, items=[dataclasses.replace(it, report=None) for it in loaded.items]) \
            if pool is not None else loaded
        full = runner.submit(plan_number_and_merge, worker_theme, _epoch(), plain, False,
                             _bare(loaded, rendered, notices, False), published_on, memo, guess)
    public_plan, numbered, slots = _plan_pack(loaded, theme, True, _bare(loaded, rendered, notices, True),
                                              published_on, memo, guess)
    lane = (worker_theme, _epoch(), numbered, public_plan.total, meeting.date, memo)
    public = runner.submit(number_and_merge, *lane, *_merge_inputs(loaded, theme, True, public_plan, slots))
    if not part_b:  # the full pack is the public one under its own title
        full_merge = _merge_inputs(loaded, theme, False, public_plan, slots)
        if pool is not None:  # numbered again on the other worker, beside the public pack
            full = pool.submit(number_and_merge, *lane, *full_merge)

    outputs: dict[str, bytes] = {"public-pack.pdf": b"", "full-pack.pdf": b""}  # their places in the order
    # The standalone agenda: the public pack's agenda (the same layout), numbered on its own.
    outputs["agenda.pdf"] = number_pages([Numbered(public_plan.agenda.pdf, 1, PACK_CSS, public_plan.agenda.pages)],
                                         public_plan.agenda.pages, theme, meeting.date, memo)[0]
    outputs["agenda.docx"] = agenda_docx(loaded, theme, public_plan.starts, published_on)
    # The web version: agenda.html and a page per public report item (never a Part B one).
    web = web_pages(loaded, theme, public_plan.starts, published_on, _item_stems(loaded),
                    public_plan.agenda.pages, public_plan.total,
                    {n: r.web for n, r in rendered.items() if r.web is not None}, memo)
    outputs["agenda.html"] = web.pop("agenda.html")
    progress.advance("agenda")

    public_pdfs, outputs["public-pack.pdf"] = wait_for(public)
    progress.advance("numbering the public pack")
    progress.advance("merging public-pack.pdf")
    full_plan, full_slots, full_pdfs = public_plan, slots, public_pdfs
    if part_b:
        full_plan, full_slots, full_pdfs, outputs["full-pack.pdf"] = wait_for(full)
        progress.advance("numbering the full pack")
    elif pool is not None:
        outputs["full-pack.pdf"] = wait_for(full)[1]
    else:  # numbered already, for the public pack: only the merge
        from ..pdfmerge import merge_pdfs  # pikepdf (0.05 s): not before a rebuild's renders are asked for

        outputs["full-pack.pdf"] = merge_pdfs(filled(full_merge[0], full_merge[1], public_pdfs),
                                              title=full_merge[2], lang=full_merge[3])
    progress.advance("merging full-pack.pdf")
    parts = {public: {n: pdfs[slot] if isinstance(slot, int) else slot for n, slot in numbered_slots.items()}
             for public, pdfs, numbered_slots in ((True, public_pdfs, slots), (False, full_pdfs, full_slots))}
    for item in loaded.items:
        if not item.has_papers:
            continue
        secret = item.exempt
        stem = _item_stem(item)
        pdf = parts[not secret][item.number]
        if item.kind == "pdf":
            # An attached PDF as supplied can carry attachments, scripts and metadata that the
            # pack's merge strips: the item file goes through the same door.
            pdf = sanitize_pdf(pdf, item.shown_title(not secret), meeting.language)
        outputs[f"{stem}.pdf"] = pdf
        if item.kind == "report":
            outputs[f"{stem}.docx"] = rendered[item.number].docx
        if f"{stem}.html" in web:
            outputs[f"{stem}.html"] = web.pop(f"{stem}.html")
    if web:  # pragma: no cover - web_pages writes only the pages web_names lists
        raise CabinetReportsError(f"web pages without an item: {', '.join(web)}")
    return outputs, (public_plan.total, full_plan.total)

