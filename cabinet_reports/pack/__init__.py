"""Meeting packs: the agenda front sheet and every item's papers, as public and full packs.

    from cabinet_reports.pack import build_pack
    result = build_pack("examples/dudley-2005-cabinet/meeting.yaml", "out/")

writes ``agenda.pdf`` and ``agenda.docx``, ``public-pack.pdf``, ``full-pack.pdf`` and
``items/`` (one PDF per item with papers, and a DOCX per report), all or nothing. Part B item
files go to ``items/part-b/``, never beside the public ones, so uploading ``items/`` (the
files, not the folder inside it) publishes nothing exempt.

How it works, and why:

1. **Validate everything first.** The meeting file and every report are loaded and numbered;
   every problem of every item is collected (located in its own file) and raised together,
   before anything is rendered or written.
2. **Count pages.** Each report is laid out once (WeasyPrint layout, no PDF) to count its
   pages; attached PDFs are counted with pikepdf; a Part B item's public notice is one page.
3. **Number the pack.** From the counts, the agenda's page references and every part's page
   offset follow; the agenda is laid out again until its own length is stable (a reference
   growing from "Page 9" to "Pages 10 to 12" can push it onto another page).
4. **Render with pack page numbers.** Each report is rendered with ``page_offset`` and
   ``total_pages``, so its own footer prints "Page 23 of 57": the numbers are part of the
   tagged render, not stamped afterwards. Attached PDFs are included as supplied, with the
   pack page number laid over each page as an ``/Artifact`` (invisible to the structure tree).
5. **Merge keeping tags** with :func:`cabinet_reports.pdfmerge.merge_pdfs`: one bookmark per
   item, each report's own bookmarks nested; procedural items (no papers) get a bookmark to
   their entry on the agenda.
6. **Write** every output as one set with :func:`cabinet_reports.atomic.write_folder`: staged
   in a hidden folder, switched over through a journal (a killed run's switch is completed by
   the next run), and recorded in ``OUTDIR/.make-report-manifest.json`` so that files an
   earlier build wrote and this one does not — an item renumbered, removed, or now Part B —
   are removed. Files the tool did not write are never touched.

The stages, one module each: :mod:`.load` (meeting file → items), :mod:`.plan` (page counts →
offsets, agenda, notices), :mod:`.items` (render the reports, serially or in worker
processes), :mod:`.assemble` (page furniture, merge, bookmarks), :mod:`.docx_agenda` (the
agenda as DOCX); this module runs them in order and writes the result.

The public pack and the full pack are numbered separately (a Part B report is longer than the
one notice page that replaces it), and each has its own agenda whose references match it.
Only the public title and the Schedule 12A reason of a Part B item ever reach a public output.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..api import render_bytes, resolve_theme
from ..atomic import check_folder, write_folder
from ..renderers.pdf import layout_html, write_tagged_pdf
from ..theme import Theme
from .assemble import _stamp, assemble_pack, sanitize_pdf
from .docx_agenda import agenda_docx
from .items import PARALLEL_THRESHOLD, Progress, _NoProgress, _Runner
from .load import LoadedMeeting, PackItem, load_meeting
from .plan import (AgendaContent, AgendaEntry, _agenda_html, _Agenda, _notice_html, _number_pack, agenda_content,
                   publication_warnings)

__all__ = ["AgendaContent", "AgendaEntry", "PackItem", "PackResult", "Progress", "agenda_content", "agenda_docx",
           "build_pack", "load_meeting", "LoadedMeeting", "publication_warnings"]

# Where the per-item files go: public items, and Part B items kept apart from them.
ITEMS_FOLDER = "items"
PART_B_FOLDER = "items/part-b"


@dataclass
class PackResult:
    """What build_pack wrote and found."""

    files: list[Path]
    public_pages: int
    full_pages: int
    latest_publication: dt.date
    warnings: list[str]
    removed: list[Path] = field(default_factory=list)  # stale files an earlier build wrote


def _slug(text: str) -> str:
    slug = "-".join(filter(None, re.sub(r"[^a-z0-9]+", "-", text.lower()).split("-")))
    if len(slug) > 50:
        slug = slug[:51].rsplit("-", 1)[0]
    return slug or "item"


def build_pack(meeting_path: str | Path, outdir: str | Path, *, theme: Theme | str | Path | None = None,
               published_on: dt.date | None = None, progress: Progress | None = None,
               jobs: int | None = None, warn: Callable[[str], None] | None = None) -> PackResult:
    """Build a meeting's agenda, public pack, full pack and item files into ``outdir``.

    Every input is validated before anything is rendered; every output is rendered in memory
    and written at the end as one all-or-nothing set. Warnings (publication date, key
    decisions without forward plan reference, untagged attachments) go to ``warn`` as they
    are found and are also returned.
    """
    theme = resolve_theme(theme)
    progress = progress or _NoProgress()
    check_folder(outdir)
    loaded = load_meeting(meeting_path, theme)
    meeting = loaded.meeting
    latest, pub_warnings = publication_warnings(meeting, published_on)
    warnings = loaded.warnings + pub_warnings
    if warn:
        for line in warnings:
            warn(line)

    reports = [it for it in loaded.items if it.kind == "report"]
    part_b = [it for it in loaded.items if it.exempt and it.has_papers]
    papers = [it for it in loaded.items if it.has_papers]
    # With any Part B item the full pack differs, if only in its agenda (which shows a Part B
    # procedural item's real title and text).
    separate_full = any(it.exempt for it in loaded.items)
    # One step per progress.advance() below, so the bar ends exactly at 100 %:
    # - each report laid out once to count its pages (len(reports));
    # - per pack built, its agenda (1) and each item with papers (len(papers)): a report rendered
    #   (or reused when its pack numbers did not change), an attachment stamped or a Part B
    #   notice. Only the public pack is built when nothing is Part B: both packs are the same;
    # - merging the public and the full pack (2; the full pack is merged even when it equals
    #   the public one), the standalone agenda (1), each report's DOCX (len(reports)), writing (1).
    packs_built = 2 if separate_full else 1
    progress.start(len(reports) + packs_built * (1 + len(papers)) + 2 + 1 + len(reports) + 1)
    if jobs is None:
        jobs = min(os.cpu_count() or 1, len(reports)) if len(reports) >= PARALLEL_THRESHOLD else 1
    runner = _Runner(theme, max(1, jobs))
    try:
        counts = runner.run("count", [(it, 0, 0) for it in reports], progress, "laying out")
        for item, n in zip(reports, counts):
            item.pages = n
        notice_pages = {}
        for item in part_b:
            notice = _notice_html(loaded, item, theme, 0, 999)
            notice_pages[item.number] = len(layout_html(notice, theme, meeting.date).pages)
        packs: dict[bool, tuple[_Agenda, dict[int, bytes], int, dict[int, tuple[int, int]]]] = {}
        rendered: dict[tuple[int, int, int], bytes] = {}  # (item, offset, total) -> report PDF
        for public in (True, False):
            if not public and not separate_full:
                packs[False] = packs[True]
                break
            agenda, starts, total = _number_pack(loaded, theme, public, notice_pages, published_on)
            progress.advance("agenda")
            parts: dict[int, bytes] = {}
            todo = []
            label = "rendering" if public else "rendering full pack"
            for item in loaded.items:
                if not item.has_papers:
                    continue
                offset = starts[item.number][0] - 1
                if item.exempt and public:
                    document = layout_html(_notice_html(loaded, item, theme, offset, total), theme, meeting.date)
                    parts[item.number] = write_tagged_pdf(document, meeting.date)
                    progress.advance(f"notice for item {item.number}")
                elif item.kind == "pdf":
                    parts[item.number] = _stamp(loaded, item, theme, offset, total, marking=item.exempt)
                    progress.advance(f"stamping item {item.number}")
                elif (item.number, offset, total) in rendered:  # same pack numbers: reuse
                    progress.advance(f"{label} item {item.number}")
                else:
                    todo.append((item, offset, total))
            for (item, offset, total_), pdf in zip(todo, runner.run("render", todo, progress, label)):
                rendered[(item.number, offset, total_)] = pdf
            for item in reports:
                if not (item.exempt and public):
                    parts[item.number] = rendered[(item.number, starts[item.number][0] - 1, total)]
            packs[public] = (agenda, parts, total, starts)
    except BaseException:
        runner.close(abort=True)
        raise
    runner.close()

    outputs: dict[str, bytes] = {}
    for public, name in ((True, "public-pack.pdf"), (False, "full-pack.pdf")):
        agenda, parts, _, _ = packs[public]
        outputs[name] = assemble_pack(loaded, theme, agenda, parts, public)
        progress.advance(f"merging {name}")

    # The standalone agenda: the public pack's agenda, numbered as a document of its own.
    starts = packs[True][3]
    agenda_html = _agenda_html(loaded, theme, starts, None, published_on)
    outputs["agenda.pdf"] = write_tagged_pdf(layout_html(agenda_html, theme, meeting.date), meeting.date)
    outputs["agenda.docx"] = agenda_docx(loaded, theme, starts, published_on)
    progress.advance("agenda")

    for item in loaded.items:
        if not item.has_papers:
            continue
        secret = item.exempt
        # Part B files live in their own folder (and say so in their names): a clerk who
        # uploads every file in items/ publishes no exempt paper.
        folder = PART_B_FOLDER if secret else ITEMS_FOLDER
        stem = f"{folder}/{item.number:02d}-" + ("not-for-publication-" if secret else "") + \
            _slug(item.shown_title(True))
        outputs[f"{stem}.pdf"] = packs[not secret][1][item.number]
        if item.kind == "pdf":
            # An attached PDF as supplied can carry attachments, scripts and metadata that the
            # pack's merge strips: the item file goes through the same door.
            outputs[f"{stem}.pdf"] = sanitize_pdf(outputs[f"{stem}.pdf"], item.shown_title(not secret),
                                                  meeting.language)
        if item.kind == "report":
            outputs[f"{stem}.docx"] = render_bytes(item.report, "docx", theme)
            progress.advance(f"DOCX of item {item.number}")
    progress.advance("writing")
    files, removed = write_folder(outdir, outputs)
    return PackResult(files, packs[True][2], packs[False][2], latest, warnings, removed)

