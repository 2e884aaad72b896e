"""Readers: one module per input format, each giving the same plain data to validate.

A reader turns a file into plain Python data (the dicts and lists a YAML report holds) and a
:class:`~cabinet_reports.loader.Source` that maps every field path to its line, so
validation, numbering and rendering never know which format an officer wrote in.
YAML and JSON are read by :mod:`cabinet_reports.loader`; Markdown by :mod:`.markdown`.
"""

from __future__ import annotations

from pathlib import Path

from .markdown import MARKDOWN_SUFFIXES, parse_markdown, read_markdown

__all__ = ["MARKDOWN_SUFFIXES", "is_markdown", "parse_markdown", "read_markdown"]


def is_markdown(path: str | Path) -> bool:
    """Return True when ``path`` names a Markdown report (``.md`` or ``.markdown``)."""
    return Path(path).suffix.lower() in MARKDOWN_SUFFIXES
