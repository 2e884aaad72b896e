"""The library's front door: load, build and render reports in two or three lines.

    from cabinet_reports import load_report, render_report
    report = load_report("examples/dudley-2005-partnership-strategy/report.yaml")
    render_report(report, "out/")                    # writes out/<name>.pdf and .docx

Every function raises :class:`~cabinet_reports.errors.CabinetReportsError` subclasses with
located problems for anything the user can get wrong.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from .document import Document, build_document
from .errors import CabinetReportsError, InputError, Problem
from .images import ImageError, inspect_image
from .loader import Source, load_file
from .models import Report
from .readers import is_markdown, read_markdown
from .renderers import RenderOptions, formats, get_renderer, source_date_epoch, suffix
from .theme import Theme, builtin_theme_dir
from .validation import validate

if TYPE_CHECKING:
    from .renderers.pdf_worker import PdfWorker

GENERIC_STEMS = {"report", "index", "input", "meeting"}


def load_report(path: str | Path, theme: Theme | str | Path | None = None) -> Report:
    """Load and validate a report from a YAML, JSON or Markdown file.

    A Markdown report's headings are matched to ``theme``'s sections (the built-in theme
    when None); YAML and JSON do not depend on the theme.
    """
    data, source = read_markdown(path, resolve_theme(theme)) if is_markdown(path) else load_file(path)
    report = validate(Report, data, source)
    report._source = source
    return report


def report_from_data(data: Any, name: str = "<data>") -> Report:
    """Validate a report from plain Python data (a dict as it would come from YAML)."""
    report = validate(Report, data, Source(name))
    report._source = Source(name)
    return report


def _source_of(report: Report) -> Source | None:
    return report._source if isinstance(report._source, Source) else None


def _locate(exc: CabinetReportsError, report: Report) -> CabinetReportsError:
    source = _source_of(report)
    if source is None or not isinstance(exc, InputError):
        return exc
    return exc.located(source.name, source.locate)


def resolve_theme(theme: Theme | str | Path | None, *, compiled_cache: bool = False) -> Theme:
    """Return a Theme from a Theme, a theme folder path, or None for the built-in theme.

    A folder gives the same Theme object again while none of its files changed, so a process
    that renders many reports (a pack worker, a preview loop) parses theme.yaml, compiles the
    templates and loads the fonts once. ``compiled_cache`` also keeps the compiled templates
    for the next process, in the user's cache folder (see template_cache.py).
    """
    if isinstance(theme, Theme):
        return theme
    folder = None if theme is None else Path(theme).resolve()
    return _cached_theme(folder, _theme_stamp(folder), compiled_cache)


@functools.lru_cache(maxsize=8)
def _cached_theme(folder: Path | None, stamp: tuple, compiled_cache: bool = False) -> Theme:
    return Theme(folder, compiled_cache=compiled_cache)


def _theme_stamp(folder: Path | None) -> tuple:
    """Return the name, size and modification time of the files in the theme's folders.

    The files directly in each folder and in its subfolders (``fonts/``): a new override
    template or font counts as a change, not only an edited one. Not deeper, so pointing
    ``--theme`` at a big folder by mistake costs little.
    """
    stamp = []
    for root in ([folder] if folder is not None else []) + [builtin_theme_dir()]:
        for top in _entries(root):
            stamp.append(top[:3])
            if top[3]:
                stamp.extend(sub[:3] for sub in _entries(Path(root) / top[0]))
    return tuple(stamp)


def _entries(folder: Path) -> list[tuple[str, int, int, bool]]:
    """Return (name, size, mtime, is a folder) for each entry of a folder, sorted by name."""
    try:
        with os.scandir(folder) as it:
            entries = [(e.name, e.stat().st_size, e.stat().st_mtime_ns, e.is_dir()) for e in it]
    except OSError:
        return []
    return sorted(entries)


def build(report: Report, theme: Theme | str | Path | None = None) -> Document:
    """Number the report and resolve its references, with errors located in its source file."""
    try:
        return build_document(report, resolve_theme(theme))
    except CabinetReportsError as exc:
        raise _locate(exc, report) from None


def render_options(report: Report, **overrides: Any) -> RenderOptions:
    """Return the render options for a report: its asset folder and its logo, inspected."""
    source = _source_of(report)
    asset_dir = source.base_dir if source else None
    logo = None
    if report.council.logo:
        base = asset_dir or Path.cwd()
        logo = (base / report.council.logo).resolve()
        where = (source.name if source else None, source.line_of(("council", "logo")) if source else None)
        if not logo.is_file():
            raise InputError(Problem("logo file not found", *where, "council.logo"))
        if not logo.is_relative_to(base.resolve()):
            # A symlink pointing elsewhere: the PDF fetcher would refuse it silently, so say why.
            raise InputError(Problem("the logo must be a file inside the report's folder (it links outside it)",
                                     *where, "council.logo"))
        try:
            inspect_image(logo)  # once, here, so `check` refuses what a renderer could not draw
        except ImageError as exc:
            raise InputError(Problem(str(exc), *where, "council.logo")) from None
        asset_dir = asset_dir or logo.parent
    return RenderOptions(asset_dir=asset_dir, logo=logo, **overrides)


def render_bytes(report: Report, fmt: str = "pdf", theme: Theme | str | Path | None = None,
                 **options: Any) -> bytes:
    """Render a report to one format and return the file's bytes."""
    theme = resolve_theme(theme)
    doc = build(report, theme)
    return get_renderer(fmt)(doc, theme, render_options(report, **options))


def output_stem(path: str | Path) -> str:
    """Return the output file name (without suffix) for an input file.

    ``examples/dudley/report.yaml`` gives ``dudley``: a generic file name takes its folder's
    name, so several reports each in their own folder render side by side.
    """
    path = Path(path)
    return path.resolve().parent.name if path.stem.lower() in GENERIC_STEMS else path.stem


def parse_formats(spec: str | Iterable[str]) -> list[str]:
    """Parse "pdf,docx" (or a list) into known format names, in order, without duplicates."""
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    out: list[str] = []
    for name in (n.strip().lower() for n in names):
        if not name:
            continue
        if name not in formats():
            raise InputError(Problem(f"unknown output format '{name}' (choose from {', '.join(formats())})",
                                     field="--format"))
        if name not in out:
            out.append(name)
    if not out:
        raise InputError(Problem("no output format given", field="--format"))
    return out


@dataclass(frozen=True)
class Job:
    """One report ready to render: validated, numbered, assets resolved, output name chosen."""

    report: Report
    doc: Document
    options: RenderOptions
    stem: str


def prepare(report: Report | str | Path, theme: Theme | str | Path | None = None, name: str | None = None) -> Job:
    """Load (if a path), validate and number a report and check its assets; raise located errors."""
    theme = resolve_theme(theme)
    if not isinstance(report, Report):
        stem = name or output_stem(report)
        report = load_report(report, theme)
    else:
        stem = name or _default_stem(report)
    source_date_epoch()  # a bad SOURCE_DATE_EPOCH fails `check` as it would fail `render`
    return Job(report, build(report, theme), render_options(report), stem)


def render_jobs(jobs: Iterable[Job], outdir: str | Path, *, formats: str | Iterable[str] = ("pdf", "docx"),
                theme: Theme | str | Path | None = None, html: bool = False,
                print_link_urls: bool | None = None, pdf_worker: PdfWorker | None = None) -> list[Path]:
    """Render prepared reports into ``outdir`` and return the written paths.

    ``print_link_urls`` prints each link's address after its text in the PDF (None: as the
    theme says).

    Everything is rendered in memory first and then written as one atomic set, so a failure
    in any report or format leaves every previous output untouched and nothing half-written.
    With a ``pdf_worker`` (the command line's, see renderers/pdf_worker.py) each PDF is laid
    out in that process while this one renders the other formats.
    """
    from .atomic import write_files
    from .renderers.pdf import render_html

    theme = resolve_theme(theme)
    wanted = parse_formats(formats)
    if html and "html" in wanted:
        # Both would be NAME.html: say so rather than let one silently replace the other.
        raise InputError(Problem("--html (the PDF's intermediate HTML) and --format html (the web page) would both "
                                 "write NAME.html: render them into separate folders", field="--html"))
    jobs = list(jobs)
    outdir = Path(outdir)
    stems = [job.stem for job in jobs]
    clashes = sorted({s for s in stems if stems.count(s) > 1})
    if clashes:
        raise InputError(Problem(f"several inputs would write {', '.join(clashes)}: render them into separate folders"))
    files: dict[Path, bytes] = {}
    if print_link_urls is not None:
        jobs = [dataclasses.replace(job, options=dataclasses.replace(job.options, print_link_urls=print_link_urls))
                for job in jobs]
    for job in jobs:
        page = render_html(job.doc, theme, job.options) if html or pdf_worker is not None else None
        pdf_later = None
        if pdf_worker is not None and "pdf" in wanted:
            pdf_later = pdf_worker.submit(page, theme.dirs, job.doc.date, job.options.asset_dir,
                                          generation=theme.generation)
        for fmt in wanted:
            target = outdir / f"{job.stem}{suffix(fmt)}"
            # The PDF's place is kept in the order of formats; its bytes come from the worker.
            files[target] = b"" if fmt == "pdf" and pdf_later is not None else get_renderer(fmt)(job.doc, theme, job.options)
        if pdf_later is not None:
            files[outdir / f"{job.stem}.pdf"] = pdf_later()
        if html:
            files[outdir / f"{job.stem}.html"] = page.encode("utf-8")
    return write_files(files)


def render_report(report: Report | str | Path, outdir: str | Path, *, formats: str | Iterable[str] = ("pdf", "docx"),
                  theme: Theme | str | Path | None = None, name: str | None = None) -> dict[str, Path]:
    """Render a report (or a report file) into ``outdir``; return the written paths by format."""
    theme = resolve_theme(theme)
    job = prepare(report, theme, name)
    wanted = parse_formats(formats)
    written = render_jobs([job], outdir, formats=wanted, theme=theme)
    return dict(zip(wanted, written))


def _default_stem(report: Report) -> str:
    source = _source_of(report)
    if source and source.name and not source.name.startswith("<"):
        return output_stem(source.name)
    slug = "".join(c if c.isalnum() else "-" for c in report.title.lower())
    return "-".join(filter(None, slug.split("-")))[:60] or "report"
