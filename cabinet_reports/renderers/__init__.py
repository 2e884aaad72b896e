"""One renderer per output format, chosen by name (like pandoc's writers and Sphinx builders).

A renderer is a function ``render(doc, theme, options) -> bytes``. It formats what the
:class:`~cabinet_reports.document.Document` already says; it never numbers or words anything.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..document import Document
from ..errors import Problem, RenderError
from ..theme import Theme


@dataclass(frozen=True)
class RenderOptions:
    """Per-render settings: where the report's own assets live and pack page numbering."""

    asset_dir: Path | None = None
    logo: Path | None = None
    page_offset: int = 0  # pages before this document in a pack
    total_pages: int | None = None  # pack length, printed as "of N"; None: this document's own
    page_numbers: bool = True  # False: no "Page N of M" footer (a meeting pack draws its own as artifacts)


def document_timestamp(day: dt.date) -> dt.datetime:
    """Return the moment every output of a document is stamped with.

    SOURCE_DATE_EPOCH (the reproducible-builds convention) wins when set; otherwise midnight
    UTC at the start of the document's own date, so the same input gives the same bytes on
    every run and machine.
    """
    raw = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not raw:
        return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
    if not re.fullmatch(r"-?\d+", raw):
        raise RenderError(Problem(f"SOURCE_DATE_EPOCH must be a whole number of seconds since 1970, not {raw!r}",
                                  field="SOURCE_DATE_EPOCH"))
    return dt.datetime.fromtimestamp(int(raw), dt.timezone.utc)


Renderer = Callable[[Document, Theme, RenderOptions], bytes]

# name -> (module, function, file suffix); imported lazily so `make-report --help` stays fast.
_REGISTRY: dict[str, tuple[str, str, str]] = {
    "pdf": ("cabinet_reports.renderers.pdf", "render_pdf", ".pdf"),
    "docx": ("cabinet_reports.renderers.docx", "render_docx", ".docx"),
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
