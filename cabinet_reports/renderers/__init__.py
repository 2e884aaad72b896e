"""One renderer per output format, chosen by name (like pandoc's writers and Sphinx builders).

A renderer is a function ``render(doc, theme, options) -> bytes``. It formats what the
:class:`~cabinet_reports.document.Document` already says; it never numbers or words anything.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import importlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from ..errors import Problem, RenderError
from ..limits import EARLIEST_DATE, LATEST_DATE

if TYPE_CHECKING:  # a PDF worker imports this package without the models, pydantic or Jinja
    from ..document import Document
    from ..theme import Theme


@dataclass(frozen=True)
class RenderOptions:
    """Per-render settings: where the report's own assets live and pack page numbering."""

    asset_dir: Path | None = None
    logo: Path | None = None
    page_offset: int = 0  # pages before this document in a pack
    total_pages: int | None = None  # pack length, printed as "of N"; None: this document's own
    print_link_urls: bool | None = None  # PDF: print each link's address after it; None: the theme's setting
    page_numbers: bool = True  # False: no "Page N of M" footer (a meeting pack draws its own as artifacts)


# Every moment stamped into an output (the document's date, or SOURCE_DATE_EPOCH) lies in
# these years: a PDF date has four digits for the year, and the models refuse earlier dates
# as typos (0205-03-16 for 2005-03-16) from long before any council existed.
EARLIEST = dt.datetime.combine(EARLIEST_DATE, dt.time(), dt.timezone.utc)
LATEST = dt.datetime.combine(LATEST_DATE, dt.time(23, 59, 59), dt.timezone.utc)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


# SOURCE_DATE_EPOCH as this thread (or asyncio task) sees it, when set by source_date(): a
# pack job carries its caller's value to a worker, which may be a thread of a process that
# renders other callers' jobs at the same time (a thread pool, a Dask worker).
_SOURCE_DATE: contextvars.ContextVar[str | None] = contextvars.ContextVar("source_date_epoch", default=None)


def source_date_setting() -> str:
    """Return the raw SOURCE_DATE_EPOCH in force here: :func:`source_date`'s, else the environment's."""
    value = _SOURCE_DATE.get()
    return (os.environ.get("SOURCE_DATE_EPOCH", "") if value is None else value).strip()


@contextlib.contextmanager
def source_date(raw: str) -> Iterator[None]:
    """Render in this thread (or task) as if SOURCE_DATE_EPOCH were ``raw`` ("" for unset).

    The process environment is left alone: other threads keep their own setting.
    """
    token = _SOURCE_DATE.set(raw.strip())
    try:
        yield
    finally:
        _SOURCE_DATE.reset(token)


def source_date_epoch(raw: str | None = None) -> dt.datetime | None:
    """Return SOURCE_DATE_EPOCH as a UTC moment, None when unset, or raise a located error.

    Only read, never set: the environment is shared by every thread of the process (a thread
    that needs another value uses :func:`source_date`).
    """
    raw = (source_date_setting() if raw is None else raw).strip()
    if not raw:
        return None
    if not re.fullmatch(r"-?\d+", raw):
        raise RenderError(Problem(f"SOURCE_DATE_EPOCH must be a whole number of seconds since 1970, not {raw[:40]!r}",
                                  field="SOURCE_DATE_EPOCH"))
    # Compare as numbers first: a thousand-digit value would overflow timedelta (and int()
    # refuses more than 4,300 digits).
    seconds = int(raw) if len(raw) <= 20 else (-1 if raw.startswith("-") else 1) * 10 ** 20
    earliest, latest = (int((bound - _EPOCH).total_seconds()) for bound in (EARLIEST, LATEST))
    if not earliest <= seconds <= latest:
        raise RenderError(Problem(
            f"SOURCE_DATE_EPOCH {raw[:40]} is outside the dates a document can carry "
            f"(from {earliest} for {EARLIEST:%Y-%m-%d} to {latest} for {LATEST:%Y-%m-%d})",
            field="SOURCE_DATE_EPOCH"))
    return _EPOCH + dt.timedelta(seconds=seconds)


def document_timestamp(day: dt.date) -> dt.datetime:
    """Return the moment every output of a document is stamped with.

    SOURCE_DATE_EPOCH (the reproducible-builds convention) wins when set; otherwise midnight
    UTC at the start of the document's own date, so the same input gives the same bytes on
    every run and machine. The date is passed in, never taken from process-wide state, so
    documents rendered in parallel threads each carry their own.
    """
    return source_date_epoch() or dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)


Renderer = Callable[["Document", "Theme", RenderOptions], bytes]

# name -> (module, function, file suffix); imported lazily so `make-report --help` stays fast.
_REGISTRY: dict[str, tuple[str, str, str]] = {
    "pdf": ("cabinet_reports.renderers.pdf", "render_pdf", ".pdf"),
    "docx": ("cabinet_reports.renderers.docx", "render_docx", ".docx"),
    "html": ("cabinet_reports.renderers.html", "render_web", ".html"),
}


def formats() -> list[str]:
    """Return the names of the available output formats."""
    return list(_REGISTRY)


def suffix(name: str) -> str:
    """Return the file suffix for a format."""
    return _REGISTRY[name][2]


def get_renderer(name: str) -> Renderer:
    """Return the renderer for a format name, or raise a clear error for an unknown one."""
    try:
        module, func, _ = _REGISTRY[name]
    except KeyError:
        raise RenderError(Problem(f"unknown output format '{name}' (choose from {', '.join(_REGISTRY)})")) from None
    return getattr(importlib.import_module(module), func)
