"""Stage 4 of a pack (with :mod:`.furniture`): stamps on attached PDFs, the merge, the bookmarks.

Takes the rendered parts of one pack (the agenda, each item's PDF) in agenda order; gives
one tagged PDF (:func:`cabinet_reports.pdfmerge.merge_pdfs`) with one top-level bookmark per
agenda item — each report's own bookmarks nested, a procedural item's pointing at its entry
on the agenda. Attached PDFs get the pack page number (and the Part B marking) laid over
each page as ``/Artifact`` content, so a tagged attachment stays valid.
"""

from __future__ import annotations

import dataclasses
import io

from ..errors import CabinetReportsError
from ..renderers.pdf import css_string, footer_content, render_overlay_pdf
from ..theme import Theme
from .load import LoadedMeeting, PackItem
from .plan import _Agenda, _context, _words


def _stamp(loaded: LoadedMeeting, item: PackItem, theme: Theme, offset: int, total: int | None,
           marking: bool) -> bytes:
    """Lay the pack page number (and the Part B marking) over every page of an attached PDF.

    The stamp is a one-page-per-page WeasyPrint render (untagged), each page placed over its target as a
    Form XObject inside ``/Artifact`` marked content, so a tagged attachment stays valid.
    """
    import pikepdf

    pdf = pikepdf.open(io.BytesIO(item.pdf))
    sizes: dict[tuple[float, float], str] = {}
    names = []
    for page in pdf.pages:
        box = page.trimbox
        w, h = round(float(box[2]) - float(box[0]), 2), round(float(box[3]) - float(box[1]), 2)
        if int(page.obj.get("/Rotate", 0)) % 180:
            w, h = h, w
        names.append(sizes.setdefault((w, h), f"size{len(sizes)}"))
    html = theme.render("stamp.html", {
        "language": loaded.meeting.language, "title": item.title,
        "sizes": [(name, w, h) for (w, h), name in sizes.items()], "pages": names,
        "asset": lambda name: theme.find(name).as_uri(),
        "footer_css": footer_content(theme.word("page_footer"), total),
        "marking_css": css_string(theme.word("exempt_marking")) if marking else "none",
        "page_offset": offset,
    })
    stamp_bytes = render_overlay_pdf(html, theme, loaded.meeting.date)
    stamps = pikepdf.open(io.BytesIO(stamp_bytes))
    if len(stamps.pages) != len(pdf.pages):  # pragma: no cover - one stamp page per page by construction
        raise CabinetReportsError(f"stamping {item.path}: {len(stamps.pages)} stamps for {len(pdf.pages)} pages")
    for page, stamp in zip(pdf.pages, stamps.pages):
        # As pikepdf's add_overlay, but with the drawing wrapped in /Artifact marked content
        # (add_overlay would coalesce it into the page's own, tagged, content stream).
        formx = pdf.copy_foreign(stamp.as_form_xobject())
        existing = page.obj.get("/Resources", {}).get("/XObject", {})
        name = next(pikepdf.Name(f"/CRPageStamp{n}") for n in range(1000) if f"/CRPageStamp{n}" not in existing)
        page.add_resource(formx, pikepdf.Name.XObject, name)  # a fixed name keeps the output reproducible
        placement = page.calc_form_xobject_placement(formx, name, pikepdf.Rectangle(page.trimbox),
                                                     allow_shrink=True, allow_expand=True)
        page.contents_add(b"q\n", prepend=True)
        page.contents_add(b"Q\n/Artifact <</Type /Pagination /Subtype /Footer>> BDC\n" + placement + b"\nEMC\n")
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True)
    return out.getvalue()


def pack_merge(loaded: LoadedMeeting, theme: Theme, agenda: _Agenda, parts: dict[int, bytes],
               public: bool) -> tuple[list, str, str]:
    """Return what merges into the public (or the full) pack: the parts, the pack's title and its language.

    One part per agenda item with papers, in agenda order, after the agenda; an item without
    papers gets a bookmark to the agenda page listing it instead (in the agenda's ``then``).

    Plain data (``MergePart`` holds bytes and strings), so a worker process can do the merge.
    """
    from ..pdfmerge import MergePart

    ctx = _context(loaded.meeting, theme)
    merge = [MergePart(agenda.pdf, _words(theme, "agenda_bookmark", ctx), keep_outline=False, ours=True)]
    for item in loaded.items:
        bookmark = _words(theme, "agenda_item_bookmark", dict(ctx, number=item.number, title=item.shown_title(public)))
        if item.has_papers:
            # A report, or a Part B notice in its place, is ours; an attached PDF is scanned.
            merge.append(MergePart(parts[item.number], bookmark,
                                   keep_outline=item.kind == "report" and not (item.exempt and public),
                                   ours=item.kind == "report"))
        else:
            target = agenda.anchors.get(f"item-{item.number}", 0)
            merge[-1] = dataclasses.replace(merge[-1], then=merge[-1].then + ((bookmark, target),))
    title_key = "pack_public_title" if public else "pack_full_title"
    return merge, _words(theme, title_key, ctx), loaded.meeting.language


def number_and_merge(theme: Theme | str | None, epoch: str, numbered: list, total: int, day, memo,
                     merge: list, slots: list[int | bytes], title: str, lang: str) -> tuple[list[bytes], bytes]:
    """Number one pack's parts and merge them: return the numbered parts and the pack (may run in a worker).

    ``merge`` is :func:`pack_merge`'s list with empty PDFs; ``slots`` says what fills each of
    its parts: an index into ``numbered`` (the agenda, a report, a Part B notice) or the bytes
    of an attached PDF already stamped. ``theme`` is a Theme, or its folder for a worker
    (None: the built-in theme); ``epoch`` is the caller's SOURCE_DATE_EPOCH setting.
    The public and the full pack each take this path, on the pool's two workers at once: the
    numbering and the merge were 3.5 s of a 40-report pack, one after the other in the build's
    own process while the other CPU waited.
    """
    from ..api import resolve_theme
    from ..pdfmerge import merge_pdfs
    from ..renderers import source_date
    from .furniture import number_pages

    with source_date(epoch):
        pdfs = number_pages(numbered, total, resolve_theme(theme), day, memo)
        return pdfs, merge_pdfs(filled(merge, slots, pdfs), title=title, lang=lang)


def filled(merge: list, slots: list[int | bytes], pdfs: list[bytes]) -> list:
    """Return ``merge`` with each part's PDF filled in from its slot (see :func:`number_and_merge`)."""
    return [dataclasses.replace(part, pdf=pdfs[slot] if isinstance(slot, int) else slot)
            for part, slot in zip(merge, slots, strict=True)]


def sanitize_pdf(pdf: bytes, title: str, language: str) -> bytes:
    """Return ``pdf`` with only what may be published: pages, links, outline and structure.

    The pack's merge keeps nothing else of a part (no attachments, scripts, actions, forms or
    metadata); a single-part merge gives an item file the same guarantee.
    """
    from ..pdfmerge import MergePart, merge_pdfs

    return merge_pdfs([MergePart(pdf, title)], title=title, lang=language)
