"""Limits on what one input file may expand to, so a small file cannot exhaust time or memory.

A 5 KB report could hold one table cell that took WeasyPrint over a minute to lay out, and
95 KB of YAML aliases became a 201 MB ``document.xml``. Every limit below bounds the
*expanded* document (after YAML aliases and shorthands), is checked by ``make-report check``
and before any render, and fails with a located one-line error that names it::

    report.yaml:12: sections.background[3].table.rows[0][1]: table cell too long: 5,000
    characters; the limit is 600 characters (limit: cell_chars); move long text into paragraphs

The values come from ``benchmarks/limits_benchmark.py`` (CPU seconds on a shared 2-core
machine); each ``why`` says what the limit protects against and what the worst input it
allows costs. Real reports are far below all of them.

This module only holds numbers and counts: :mod:`models` and :mod:`loader` import their
limits from here, and :func:`check_report` walks a validated report (it is called by
:func:`cabinet_reports.document.build_document`, so ``check``, ``render`` and ``pack`` all
apply it before any layout).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

from .errors import InputError, Problem

if TYPE_CHECKING:  # models imports its limits from here; the walk imports models lazily
    from .models import Report


class LimitExceeded(InputError):
    """An input is over one of the limits below."""


@dataclass(frozen=True)
class Limit:
    """A named limit: its value, the unit it counts, and why it is there."""

    name: str
    value: int
    unit: str
    why: str

    def refuse(self, what: str, field: str | None = None, line: int | None = None,
               file: str | None = None, hint: str = "") -> LimitExceeded:
        """Return the error for exceeding this limit: ``what`` happened, the limit's value and name, what to do."""
        message = f"{what}; the limit is {self.value:,} {self.unit} (limit: {self.name})" + (f"; {hint}" if hint else "")
        return LimitExceeded(Problem(message, file, line, field))


def _table(*limits: Limit) -> dict[str, Limit]:
    return {limit.name: limit for limit in limits}


#: Every limit, by name. README's safety section lists the same table.
LIMITS: dict[str, Limit] = _table(
    # --- the file, before and while it is read (loader.py)
    Limit("file_bytes", 2 * 1024 * 1024, "bytes",
          "an input file beyond this is a mistake or an attack (total_chars of text fits in about "
          "half of it); refused before it is parsed"),
    Limit("values", 50_000, "values",
          "texts, numbers, lists and mappings in one file, counted while it is read, so a huge file "
          "stops early; a report at the blocks and table_cells limits holds about 30,000"),
    Limit("alias_values", 10_000, "values",
          "values repeated through YAML aliases (*name); nested aliases grow exponentially "
          "(\"billion laughs\": a few hundred bytes for 10**9 values)"),
    Limit("alias_chars", 100_000, "characters",
          "text repeated through YAML aliases: 100 aliased 20,000-character cells (a 21 KB file) "
          "expanded to 2 MB of text and took over 15 minutes to lay out"),
    # --- one field (models.py; pydantic checks them with the field's line)
    Limit("text_chars", 20_000, "characters",
          "one text (paragraph, list item, title); the worst, a single 20,000-letter word, takes "
          "8 s to lay out"),
    Limit("list_items", 2_000, "items",
          "blocks in one block list, items in one list; the report-wide blocks limit is the tighter one"),
    Limit("nesting", 10, "levels",
          "blocks inside blocks; real reports nest three or four deep, WeasyPrint's layout "
          "recursion overflows at about a hundred"),
    # --- the whole expanded report (check_report)
    Limit("blocks", 5_000, "blocks",
          "paragraphs, headings, sub-points, tables, list items and timeline entries in the report; "
          "5,000 paragraphs are 173 pages and take 49 s and 420 MB for the PDF and DOCX (100,000 "
          "bullets took over 300 s and 5 GB)"),
    Limit("table_cells", 10_000, "cells",
          "cells, headers included, in all the report's tables; 10,000 short cells are 63 pages and "
          "take 46 s and 320 MB (a 4,000 x 50 table took 2.7 GB)"),
    Limit("cell_chars", 600, "characters",
          "one table cell: WeasyPrint sizes table columns with one text layout per character of "
          "each cell, so a cell costs the square of its length; 600 characters take 1.6 s "
          "(5,000 took 71 s)"),
    Limit("cell_cost", 10_000_000, "character² units",
          "the sum over all table cells of the square of their length, what sizing the columns "
          "costs: 50 rows of a 300- and a 200-character cell pass; the worst allowed, 27 cells of "
          "600 characters, takes 50 s"),
    Limit("long_words", 1_000_000_000, "character² units",
          "for each text, the characters in its words of 40 or more (a link's target does not "
          "count) times the text's length, summed: a word too long for its line makes WeasyPrint "
          "lay out the rest of the text again for every line the word fills; the worst allowed "
          "takes 16 s (fifty 20,000-letter words would take seven minutes)"),
    Limit("total_chars", 1_000_000, "characters",
          "all the report's text: 1,000,000 characters of prose are about 300 pages and take 30 s "
          "and 190 MB"),
    Limit("references", 1_000, "references",
          "[[label]] cross-references, each a link in the PDF and the DOCX: 1,000 take 9 s "
          "(150,000 took over 120 s)"),
)

FILE_BYTES = LIMITS["file_bytes"].value
VALUES = LIMITS["values"].value
ALIAS_VALUES = LIMITS["alias_values"].value
ALIAS_CHARS = LIMITS["alias_chars"].value
TEXT_CHARS = LIMITS["text_chars"].value
LIST_ITEMS = LIMITS["list_items"].value
NESTING = LIMITS["nesting"].value

#: Dates (a report's, a meeting's, SOURCE_DATE_EPOCH) must fall in these years. Before 1800
#: is before any council that writes cabinet reports, so 0205-03-16 is a typo for 2005-03-16;
#: 9999 is the last year a PDF or DOCX date can carry. (Year 1 also broke the publication-date
#: arithmetic, and years before 1000 lost their leading zeros in DOCX dates.)
EARLIEST_DATE = dt.date(1800, 1, 1)
LATEST_DATE = dt.date(9999, 12, 31)


def check_date(value: dt.date) -> dt.date:
    """Return ``value`` if it is within EARLIEST_DATE..LATEST_DATE, else raise ValueError (for pydantic)."""
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(f"the date {value.isoformat()} is before {EARLIEST_DATE.year}: is the year mistyped?")
    return value


# The pattern inline.py resolves; counting it here (a regex over the raw text) costs little,
# while resolving 150,000 references costs seconds before the limit could be applied.
_REFERENCE = re.compile(r"\[\[")
_LINK_TARGET = re.compile(r"\]\([^)]*\)")  # [text](target): only the text is laid out
_LONG_WORD = re.compile(r"\S{40,}")


# --------------------------------------------------------------------------- the walk
PathKey = tuple[str | int, ...]


def _field(path: PathKey) -> str:
    from .loader import format_field_path

    return format_field_path(path)


def _texts(model: Any, path: PathKey) -> Iterator[tuple[PathKey, str]]:
    """Yield (path, text) for every string field of ``model``, recursively, in file order.

    Paths follow document.py's: a section's blocks are ``sections.KEY[i]``.
    """
    from pydantic import BaseModel

    from .models import Section

    if isinstance(model, str):
        yield path, model
    elif isinstance(model, Section):
        if model.heading:
            yield path + ("heading",), model.heading
        for i, block in enumerate(model.blocks):
            yield from _texts(block, path + (i,))
    elif isinstance(model, BaseModel):
        for name in type(model).model_fields:
            value = getattr(model, name)
            if value is not None:
                yield from _texts(value, path + (name,))
    elif isinstance(model, dict):
        for key, value in model.items():
            yield from _texts(value, path + (key,))
    elif isinstance(model, (list, tuple)):
        for i, value in enumerate(model):
            yield from _texts(value, path + (i,))


class _Counter:
    """Running totals of the walk; the first total over its limit is the error."""

    def __init__(self) -> None:
        self.blocks = 0
        self.cells = 0
        self.cell_cost = 0

    def add_block(self, path: PathKey) -> None:
        self.blocks += 1
        if self.blocks > LIMITS["blocks"].value:
            raise LIMITS["blocks"].refuse(f"too many blocks: this is block {self.blocks:,} of the report "
                                          "(paragraphs, headings, sub-points, tables and list items count)", _field(path))

    def add_table(self, table: Any, path: PathKey) -> None:
        spec = table.table
        cells = [(path + ("table", "header", j), h) for j, h in enumerate(spec.header)]
        cells += [(path + ("table", "rows", r, j), c) for r, row in enumerate(spec.rows) for j, c in enumerate(row)]
        limit = LIMITS["table_cells"]
        if self.cells + len(cells) > limit.value:
            where = path + ("table",)
            raise limit.refuse(f"too many table cells: this table brings the report's tables to "
                               f"{self.cells + len(cells):,} cells", _field(where))
        self.cells += len(cells)
        for where, text in cells:
            if len(text) > LIMITS["cell_chars"].value:
                raise LIMITS["cell_chars"].refuse(f"table cell too long: {len(text):,} characters", _field(where),
                                                  hint="move long text into paragraphs")
            self.cell_cost += len(text) ** 2
            if self.cell_cost > LIMITS["cell_cost"].value:
                raise LIMITS["cell_cost"].refuse(
                    f"too much text in long table cells: the cells up to here cost {self.cell_cost:,} "
                    "(a cell costs its length squared to lay out)", _field(where),
                    hint="shorten the longest cells or move their text into paragraphs")


def _walk_blocks(blocks: list[Any], path: PathKey, counter: _Counter) -> None:
    from . import models as m

    for i, block in enumerate(blocks):
        at = path + (i,)
        counter.add_block(at)
        if isinstance(block, m.SubPoint):
            _walk_blocks(block.blocks, at + ("blocks",), counter)
        elif isinstance(block, (m.LetteredList, m.BulletList, m.Timeline)):
            key = {m.LetteredList: "letters", m.BulletList: "bullets", m.Timeline: "timeline"}[type(block)]
            for j, item in enumerate(getattr(block, key)):
                counter.add_block(at + (key, j))
                _walk_blocks(item.blocks, at + (key, j, "blocks"), counter)
        elif isinstance(block, m.Table):
            counter.add_table(block, at)


def check_report(report: "Report") -> None:
    """Raise a located :class:`InputError` if the expanded report exceeds a document limit.

    Counts blocks, table cells and their cost, all characters and every ``[[`` reference in
    one pass over the validated model, before any text is parsed or laid out, and stops at
    the first limit exceeded (naming the field where it was crossed).
    """
    counter = _Counter()
    for key, section in report.sections.items():
        _walk_blocks(section.blocks, ("sections", key), counter)
    for i, appendix in enumerate(report.appendices):
        counter.add_block(("appendices", i))
        _walk_blocks(appendix.blocks, ("appendices", i, "blocks"), counter)

    chars = references = long_words = 0
    total, refs, words = LIMITS["total_chars"], LIMITS["references"], LIMITS["long_words"]
    for path, text in _texts(report, ()):
        chars += len(text)
        if chars > total.value:
            raise total.refuse(f"too much text: the report reaches {chars:,} characters here", _field(path))
        references += len(_REFERENCE.findall(text))
        if references > refs.value:
            raise refs.refuse(f"too many [[label]] references: the report reaches {references:,} here",
                              _field(path))
        if len(text) >= 40:
            long_words += sum(map(len, _LONG_WORD.findall(_LINK_TARGET.sub("]", text)))) * len(text)
            if long_words > words.value:
                raise words.refuse(f"too much text in very long words: the texts up to here cost {long_words:,} "
                                   "(characters in words of 40 or more, times the length of their text)",
                                   _field(path), hint="break long words up, or write a long link as [link text](url)")
