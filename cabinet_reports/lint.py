"""Report lint: the completeness and plain-English checks `make-report check` runs after validation.

Validation decides whether a report *can* be rendered; lint says whether it is ready for
committee services: the sections a council expects are there and hold text, the report fits
the council's page limit, the purpose and summary are short, each section reads plainly, every
acronym is spelt out before it is used, no "[Insert …]" or TBC is left in, links say where they
go, a key decision names its forward plan entry and the background papers are listed.

The theme's ``lint:`` key (:class:`~cabinet_reports.theme.LintSettings`) sets each check to
error, warning or off and holds its limits. :func:`lint_report` walks the report as authored
(so every finding has the field path and line the officer typed) in the order a reader meets
it (the theme's section order, then the appendices), and returns :class:`Finding` objects;
the CLI prints them one a line or as JSON.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterator

from pydantic import BaseModel

from . import models as m
from .document import Document
from .inline import MalformedReference, Span, UnknownReference, parse_inline
from .loader import PathKey, Source, format_field_path
from .renderers import RenderOptions
from .theme import LINT_CHECKS, LintSettings, Theme


@dataclass(frozen=True)
class Finding:
    """One lint finding: which check, how serious, what to do, and where (file, line, field path)."""

    check: str
    severity: str  # "error" or "warning"
    message: str
    file: str | None = None
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = (self.file or "<report>") + (f":{self.line}" if self.line else "") + ": "
        field = f"{self.field}: " if self.field else ""
        # One line whatever the message holds; the check's name says what to set in the theme.
        return " ".join(f"{where}{field}{self.severity}: {self.message} [{self.check}]".split())

    def as_dict(self) -> dict[str, Any]:
        """Return the finding as plain data for ``--format json``."""
        data = asdict(self)
        return {key: data[key] for key in ("file", "line", "field", "check", "severity", "message")}


# --------------------------------------------------------------------------- the report as text
@dataclass(frozen=True)
class Passage:
    """One piece of authored text: where it is, what it says, and what kind of text it is.

    ``role`` is "prose" (paragraphs, list items, sub-point text: read as sentences), "heading"
    (sub-headings, sub-point headings, timeline dates, captions) or "cell" (table cells).
    ``part`` is the section key, or "appendix".
    """

    path: PathKey
    text: str
    role: str
    part: str


def _section_base(key: str, source: Source | None) -> PathKey:
    """Return the authored path of a section's blocks: ``sections.key`` or ``sections.key.blocks``."""
    if source is not None and ("sections", key, "blocks") in source.lines:
        return ("sections", key, "blocks")
    return ("sections", key)


def _block_passages(blocks: list[m.Block], at: PathKey, part: str) -> Iterator[Passage]:
    for i, block in enumerate(blocks):
        here = at + (i,)
        if isinstance(block, m.Paragraph):
            yield Passage(here + ("p",), block.p, "prose", part)
        elif isinstance(block, m.PlainParagraph):
            yield Passage(here + ("text",), block.text, "prose", part)
        elif isinstance(block, m.SubHeading):
            yield Passage(here + ("heading",), block.heading, "heading", part)
        elif isinstance(block, m.SubPoint):
            if block.subpoint:
                yield Passage(here + ("subpoint",), block.subpoint, "heading", part)
            if block.text:
                yield Passage(here + ("text",), block.text, "prose", part)
            yield from _block_passages(block.blocks, here + ("blocks",), part)
        elif isinstance(block, (m.LetteredList, m.BulletList)):
            kind = "letters" if isinstance(block, m.LetteredList) else "bullets"
            for j, item in enumerate(getattr(block, kind)):
                yield Passage(here + (kind, j, "text"), item.text, "prose", part)
                yield from _block_passages(item.blocks, here + (kind, j, "blocks"), part)
        elif isinstance(block, m.Timeline):
            for j, entry in enumerate(block.timeline):
                yield Passage(here + ("timeline", j, "when"), entry.when, "heading", part)
                yield Passage(here + ("timeline", j, "text"), entry.text, "prose", part)
                yield from _block_passages(entry.blocks, here + ("timeline", j, "blocks"), part)
        elif isinstance(block, m.Table):
            spec = block.table
            if spec.caption:
                yield Passage(here + ("table", "caption"), spec.caption, "heading", part)
            for j, cell in enumerate(spec.header):
                yield Passage(here + ("table", "header", j), cell, "cell", part)
            for r, row in enumerate(spec.rows):
                for j, cell in enumerate(row):
                    if cell:
                        yield Passage(here + ("table", "rows", r, j), cell, "cell", part)


def passages(report: m.Report, order: list[str], source: Source | None = None) -> Iterator[Passage]:
    """Yield the report's body text in reading order: sections in ``order``, then appendices."""
    for key in order:
        section = report.sections.get(key)
        if section is not None:
            yield from _block_passages(section.blocks, _section_base(key, source), key)
    for i, appendix in enumerate(report.appendices):
        yield Passage(("appendices", i, "title"), appendix.title, "heading", "appendix")
        yield from _block_passages(appendix.blocks, ("appendices", i, "blocks"), "appendix")


def _strings(value: Any, path: PathKey) -> Iterator[tuple[PathKey, str]]:
    """Yield every text value of an authored model with its field path (labels and file names aside)."""
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            if name not in ("label", "logo", "kind", "language", "status", "jurisdiction"):
                yield from _strings(getattr(value, name), path + (name,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, path + (i,))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, path + (key,))
    elif isinstance(value, str):
        yield path, value


def _spans(text: str, labels: dict[str, str]) -> tuple[Span, ...]:
    """Parse inline markup as the renderers do, a ``[[label]]`` reading as its number."""
    try:
        return parse_inline(text, lambda label: (labels[label], ""))
    except (UnknownReference, MalformedReference):  # already refused by validation; be safe
        return (Span(text),)


WORD = re.compile(r"[A-Za-z0-9£$€%]+(?:['’.,-][A-Za-z0-9]+)*")
# A sentence ends at . ! or ? followed by space; "e.g. the" is rare enough in reports to accept.
SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+")


def word_count(text: str) -> int:
    """Return the number of words in plain text (numbers and amounts such as £1.2m count as words)."""
    return len(WORD.findall(text))


# --------------------------------------------------------------------------- the linter
class _Linter:
    """Runs the enabled checks over one report, collecting located findings."""

    def __init__(self, report: m.Report, doc: Document, theme: Theme, options: RenderOptions | None):
        self.report, self.doc, self.theme = report, doc, theme
        self.options = options or RenderOptions()
        self.settings: LintSettings = theme.config.lint
        self.source: Source | None = report._source if isinstance(report._source, Source) else None
        self.findings: list[Finding] = []
        # Sections the report wrote (a generated sign-off section has no text of its own to check).
        self.order = [s.key for s in doc.sections if s.key in report.sections]
        self.titles = {s.key: s.title for s in doc.sections} | {s.key: s.title for s in theme.config.sections}
        self.body = list(passages(report, self.order, self.source))
        self._plain: dict[PathKey, str] = {}

    def severity(self, check: str) -> str:
        return self.settings.checks.get(check, "off")

    def add(self, check: str, message: str, path: PathKey = ()) -> None:
        line = self.source.line_of(path) if self.source else None
        self.findings.append(Finding(check, self.severity(check), message, self.source.name if self.source else None,
                                     line, format_field_path(path) or None))

    def line(self, path: PathKey) -> str:
        line = self.source.line_of(path) if self.source else None
        return f"line {line}" if line else format_field_path(path)

    def plain(self, passage: Passage) -> str:
        if passage.path not in self._plain:
            self._plain[passage.path] = "".join(s.text for s in _spans(passage.text, self.doc.labels)
                                                if not s.code)
        return self._plain[passage.path]

    def section_title(self, key: str) -> str:
        """Return a section's heading as the reader sees it (the field path names its key)."""
        section = self.report.sections.get(key)
        return (section.heading if section else None) or self.titles.get(key) or key

    def section_words(self, key: str, roles: tuple[str, ...] = ("prose", "cell")) -> int:
        return sum(word_count(self.plain(p)) for p in self.body if p.part == key and p.role in roles)

    def run(self) -> list[Finding]:
        for check in LINT_CHECKS:
            if self.severity(check) != "off":
                getattr(self, f"check_{check}")()
        return sorted(self.findings, key=lambda f: (f.line or 0, LINT_CHECKS.index(f.check)))

    # ------------------------------------------------------------------ checks
    def check_sections(self) -> None:
        """Sections the theme requires or expects are present, and every section holds text."""
        present = set(self.report.sections)
        if self.report.kind == "report":
            wanted = [s.key for s in self.theme.config.sections if s.required] + self.settings.expected_sections
            for key in dict.fromkeys(wanted):
                if key not in present:
                    self.add("sections", f"the {self.section_title(key)} section is missing: the theme expects it "
                                         "in every report (say so in the section if it does not apply)",
                             ("sections", key))
        for key in self.order:
            if self.section_words(key) == 0:
                self.add("sections", f"the {self.section_title(key)} section has headings but no text",
                         ("sections", key))

    def check_length(self) -> None:
        """The report fits the theme's limit of A4 sides, appendices excluded (lays the PDF out)."""
        limit = self.settings.max_sides
        if limit is None:
            return
        from .renderers.pdf import layout

        pages = layout(self.doc, self.theme, self.options).pages
        sides = len(pages)
        if self.doc.appendices:
            first = self.doc.appendices[0].anchor
            sides = next((i for i, page in enumerate(pages) if first in page.anchors), sides)
        if sides > limit:
            self.add("length", f"the report runs to {sides} A4 sides before its appendices; the theme's limit is "
                               f"{limit}: cut it or move detail into an appendix", ("sections",))

    def check_word_count(self) -> None:
        """Sections with a word limit (purpose, summary) keep to it."""
        for key, limit in self.settings.max_words.items():
            if key in self.report.sections:
                words = self.section_words(key, ("prose", "heading", "cell"))
                if words > limit:
                    self.add("word_count", f"the {self.section_title(key)} section has {words} words; the theme's "
                                           f"limit is {limit}", ("sections", key))

    def check_readability(self) -> None:
        """Each section reads as plain English (Flesch reading ease); quote the longest sentences."""
        for key in self.order:
            prose = [p for p in self.body if p.part == key and p.role == "prose"]
            sentences: list[tuple[int, str, PathKey]] = []
            for p in prose:
                for sentence in SENTENCE_END.split(self.plain(p).strip()):
                    if word_count(sentence):
                        sentences.append((word_count(sentence), sentence, p.path))
            words = sum(n for n, _, _ in sentences)
            if words < self.settings.readability_min_words:
                continue
            score = reading_ease(" ".join(_as_sentence(s) for _, s, _ in sentences))
            if score >= self.settings.min_reading_ease:
                continue
            longest = sorted(sentences, key=lambda s: -s[0])[: self.settings.longest_sentences]
            quoted = "; ".join(f"{n} words at {self.line(path)} ({_opening(text)})" for n, text, path in longest)
            self.add("readability",
                     f"the {self.section_title(key)} section is hard to read: Flesch reading ease {score:.0f}, "
                     f"below the theme's {self.settings.min_reading_ease:g} (60 and above is plain English)"
                     + (f"; longest sentences: {quoted}" if quoted else ""), ("sections", key))

    def check_acronyms(self) -> None:
        """Every acronym is spelt out ("Full Words (FW)") before, or where, it is first used."""
        known = set(self.settings.acronyms) | {p for p in self.settings.placeholders if p.isupper()}
        first_use: dict[str, tuple[int, PathKey]] = {}
        defined: dict[str, tuple[int, PathKey]] = {}
        for n, p in enumerate(self.body):
            text = self.plain(p)
            letters = [c for c in text if c.isalpha()]
            if word_count(text) >= 3 and sum(c.isupper() for c in letters) > len(letters) / 2:
                continue  # a line in capitals is a heading or shouting, not a row of acronyms
            for acronym, start in spelt_out(text):
                defined.setdefault(acronym, ((n, start), p.path))
            for found in ACRONYM.finditer(text):
                acronym = found.group(1)
                if acronym in known or ROMAN.fullmatch(acronym) or set(acronym) == {"X"}:
                    continue
                first_use.setdefault(acronym, ((n, found.start()), p.path))
        for acronym, (where, path) in first_use.items():
            if acronym not in defined:
                self.add("acronyms", f"'{acronym}' is never spelt out: write it in full where it is first used, "
                                     f"as in 'Full Words ({acronym})', or add it to the theme's lint acronyms", path)
            elif defined[acronym][0] > where:
                self.add("acronyms", f"'{acronym}' is used before it is spelt out at "
                                     f"{self.line(defined[acronym][1])}: spell it out here instead", path)

    def check_placeholders(self) -> None:
        """No placeholder text ("[Insert …]", TBC, XX, Lorem ipsum) is left anywhere in the report."""
        match = placeholder_matcher(tuple(self.settings.placeholders))
        if match is None:
            return
        for path, text in _strings(self.report, ()):
            found = match(text)
            if found is not None:
                self.add("placeholders", f'placeholder text left in: "{_around(text, found)}"', self.authored(path))

    def check_link_text(self) -> None:
        """Links say where they go: not "click here", "here" or "link" (a bare web address is fine)."""
        vague = {_normal(t) for t in self.settings.vague_link_text}
        for p in self.body:
            for href, text in links(_spans(p.text, self.doc.labels)):
                if _normal(text) in vague:
                    self.add("link_text", f"the link text '{text.strip()}' does not say where it goes ({href}): "
                                          "use words that name the page or document", p.path)

    def check_forward_plan(self) -> None:
        """A key decision names its forward plan reference."""
        decision = self.report.key_decision
        if self.report.kind == "report" and decision is not None and decision.key and not decision.forward_plan:
            self.add("forward_plan", "a key decision needs its forward plan reference: write "
                                     "key_decision: {key: true, forward_plan: FP/…} (or just the reference)",
                     ("key_decision",))

    def check_background_papers(self) -> None:
        """A report lists its background papers (or says there are none)."""
        key = self.settings.papers_section
        if self.report.kind != "report":
            return
        if key not in self.report.sections:
            self.add("background_papers", f"there is no {self.section_title(key)} section: list the unpublished "
                                          "papers the report relies on, or say there are none", ("sections", key))
        elif self.section_words(key, ("prose", "cell")) == 0:
            self.add("background_papers", f"the {self.section_title(key)} section lists nothing: list the papers, "
                                          "or say there are none", ("sections", key))

    def check_clearances(self) -> None:
        """The clearances the theme requires are there, each dated on or before the meeting."""
        self.findings.extend(clearance_findings(self.report, self.theme))

    def check_split_names(self) -> None:
        """An officer's role and name written in [ ] with a comma: YAML split one entry in two.

        ``report_of: [Executive Director of Place, Paul Johnston]`` is a valid list of two, printed
        "the Executive Director of Place and Paul Johnston". Two roles ([the Chief Executive, the
        Director of Finance]) are left alone: only a role beside a personal name is flagged, and
        only when written in [ ] (a list written a name a line is meant).
        """
        shapes = self.source.shapes if self.source else {}
        for key in _NAME_LISTS:
            names = getattr(self.report, key)
            shape = shapes.get((key,))
            if len(names) < 2 or shape is None or not shape.flow or shape.kind != "list":
                continue
            people = [_is_personal_name(n) for n in names]
            if any(people) and not all(people):
                written = shape.text.strip()
                inner = written[1:-1].strip() if written.startswith("[") and written.endswith("]") else written
                read = " and ".join(f"'{n}'" for n in names)
                self.add("split_names", f"YAML read this as {len(names)} entries, {read}, because of the comma "
                                        f"inside [ ]; if it is one officer, put it in quotes: {key}: \"{inner}\" "
                                        "(for several, write one a line starting with '- ')", (key,))

    def authored(self, path: PathKey) -> PathKey:
        """Map a model path to the path the author wrote (a section's ``blocks`` may be implicit)."""
        if len(path) > 3 and path[0] == "sections" and path[2] == "blocks":
            return _section_base(str(path[1]), self.source) + path[3:]
        return path


def lint_report(report: m.Report, doc: Document, theme: Theme, options: RenderOptions | None = None) -> list[Finding]:
    """Run the theme's enabled lint checks on a validated report and its built document.

    ``doc`` is ``build(report, theme)``; ``options`` (the report's logo and folder) matter only to
    the length check, which lays the PDF out. Findings come back sorted by line.
    """
    return _Linter(report, doc, theme, options).run()


def clearance_findings(report: m.Report, theme: Theme, meeting_date: dt.date | None = None) -> list[Finding]:
    """Return the sign-off record's findings: required clearances missing, undated or dated after the meeting.

    The severity is the theme's for the check ``clearances`` (none when it is off). Which
    clearances a report needs is ``clearances.required`` (reports only: a briefing note needs
    none). `make-report check` and `make-report pack` both report these; a pack gives its
    ``meeting_date`` (a report on its way from scrutiny to Cabinet is judged by this meeting's
    date, not the first meeting it names).
    """
    severity = theme.config.lint.checks.get("clearances", "off")
    if severity == "off":
        return []
    source = report._source if isinstance(report._source, Source) else None
    settings = theme.config.clearances
    findings: list[Finding] = []

    def add(message: str, path: PathKey) -> None:
        findings.append(Finding("clearances", severity, message, source.name if source else None,
                                source.line_of(path) if source else None, format_field_path(path)))
    if report.kind == "report":
        key = bool(report.key_decision and report.key_decision.key)
        given = {c.kind for c in report.clearances}
        for kind in settings.required_kinds(key):
            if kind not in given:
                why = "for a key decision" if kind not in settings.required_kinds(False) else "for every report"
                add(f"the {settings.kinds.get(kind, kind)} clearance is missing: the theme requires it {why}; add "
                    f"{{kind: {kind}, name: …, role: …, date: YYYY-MM-DD}} under clearances", ("clearances",))
    # A report is cleared before its meeting; a briefing note before its date.
    when, limit = ("meeting", meeting_date or report.meeting.date) if report.meeting else ("note", report.issue_date)
    for i, clearance in enumerate(report.clearances):
        label = settings.kinds.get(clearance.kind, clearance.kind)
        if clearance.date is None:
            add(f"the {label} clearance ({clearance.name}) has no date: add the date it was given, YYYY-MM-DD",
                ("clearances", i))
        elif clearance.date > limit:
            add(f"the {label} clearance is dated {clearance.date.isoformat()}, after the {when}'s date "
                f"{limit.isoformat()}: a report is cleared before it goes out", ("clearances", i, "date"))
    return findings


# --------------------------------------------------------------------------- text helpers
ACRONYM = re.compile(r"(?<![\w&])([A-Z]{2,6})s?(?![\w&])")
ROMAN = re.compile(r"[IVX]+")  # "Part II", "Schedule IV": numerals, not acronyms
_SMALL = {"of", "and", "the", "for", "to", "in", "on", "at", "by", "with", "a", "an", "&"}
_BEFORE = re.compile(r"\(([A-Z]{2,6})s?\)")
_AFTER = re.compile(r"(?<![\w&])([A-Z]{2,6})s?\s*\(([^()]{3,200})\)")


# Cover fields that list officers or members, where a comma inside [ ] can split one entry.
_NAME_LISTS = ("report_of", "portfolio_holder", "lead_officer")
# A personal name: "Paul Johnston", "Dr J. Smith", "Cllr Mary O'Neill-Jones"; not a role.
_PERSONAL_NAME = re.compile(r"(?:(?:Mr|Mrs|Ms|Miss|Mx|Dr|Cllr|Councillor)\.?\s+)?"
                            r"(?:[A-Z]\.\s*)*[A-Z][A-Za-z'’-]*[a-z](?:\s+(?:[A-Z]\.|[A-Z][A-Za-z'’-]*[a-z])){0,3}")
_ROLE_WORDS = {"director", "executive", "officer", "head", "manager", "chief", "leader", "member", "cabinet",
               "service", "services", "council", "portfolio", "assistant", "deputy", "corporate", "strategic",
               "monitoring", "treasurer", "clerk", "secretary", "chair", "chairman", "mayor", "lead", "ward",
               "councillors", "of", "the", "for", "and"}


def _is_personal_name(text: str) -> bool:
    """Return True when ``text`` reads as a person's name rather than a role."""
    text = text.strip()
    words = {w.strip(".,").casefold() for w in text.split()}
    return bool(_PERSONAL_NAME.fullmatch(text)) and len(text.split()) >= 2 and not words & _ROLE_WORDS


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^A-Za-z&]+", text.lower()) if w]


def spells(acronym: str, words: list[str]) -> bool:
    """Return True when ``words`` spell ``acronym`` out: each word gives its initial and perhaps more
    of its letters in order ("Greenhouse Gas" is GHG), and small words (of, and, the) may give none."""
    acr = acronym.lower()

    @functools.lru_cache(maxsize=None)
    def go(i: int, w: int, pos: int) -> bool:
        # i: letters of the acronym matched; w: the word being read; pos: letters of it used (0: none yet)
        if w == len(words):
            return i == len(acr)
        word = words[w]
        if pos == 0:
            if word in _SMALL and go(i, w + 1, 0):
                return True
            return i < len(acr) and word[0] == acr[i] and go(i + 1, w, 1)
        if go(i, w + 1, 0):
            return True
        if i < len(acr):
            nxt = word.find(acr[i], pos)
            while nxt >= 0:
                if go(i + 1, w, nxt + 1):
                    return True
                nxt = word.find(acr[i], nxt + 1)
        return False

    return go(0, 0, 0)


def spelt_out(text: str) -> Iterator[tuple[str, int]]:
    """Yield (acronym, position) for each "Full Words (FW)" or "FW (Full Words)" in plain text."""
    for found in _BEFORE.finditer(text):
        acronym = found.group(1)
        before = _words(text[: found.start()])[-(2 * len(acronym) + 3):]
        if any(spells(acronym, before[-k:]) for k in range(1, len(before) + 1)):
            yield acronym, found.start()
    for found in _AFTER.finditer(text):
        if spells(found.group(1), _words(found.group(2))):
            yield found.group(1), found.start()


def placeholder_matcher(patterns: tuple[str, ...]) -> Callable[[str], re.Match | None] | None:
    """Return a search function for the theme's placeholders, or None when there are none.

    A pattern with a lower-case letter matches in any case ("[insert" finds "[Insert the date]");
    one in capitals matches only those capitals, not after a letter ("TBC", and "XX" in "£XXm" and
    "20XX" but not in "EXXON").
    """
    parts = []
    for pattern in patterns:
        if not pattern:
            continue
        text = re.escape(pattern)
        if any(c.islower() for c in pattern):
            parts.append(f"(?i:{text})")
        else:
            parts.append(f"(?<![A-Za-z]){text}")
    return re.compile("|".join(parts)).search if parts else None


def links(spans: tuple[Span, ...]) -> Iterator[tuple[str, str]]:
    """Yield (address, text) for each external link in parsed inline text."""
    href, text = None, ""
    for span in spans + (Span(""),):
        target = span.href if span.href and not span.href.startswith("#") else None
        if target != href:
            if href is not None:
                yield href, text
            href, text = target, ""
        if target is not None:
            text += span.text


def reading_ease(text: str) -> float:
    """Return the Flesch reading ease of English text (textstat; the CMU dictionary counts syllables)."""
    import textstat  # imported here: loading its pronouncing dictionary takes about a second

    return float(textstat.flesch_reading_ease(text))


def _as_sentence(text: str) -> str:
    """End a list item or heading-like line with a full stop, so it scores as a sentence of its own."""
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text.rstrip(":;,") + "."


def _opening(sentence: str, words: int = 8) -> str:
    found = sentence.split()
    return "'" + " ".join(found[:words]) + ("…" if len(found) > words else "") + "'"


def _around(text: str, found: re.Match) -> str:
    """Return the placeholder's word with up to three words either side (a bracketed one alone)."""
    start, end = found.start(), found.end()
    if text[start] == "[" and "]" in text[start:start + 80]:
        return text[start:text.index("]", start) + 1]
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    before, after = text[:start].split(), text[end:].split()
    return (("…" if len(before) > 3 else "") + " ".join(before[-3:] + [text[start:end]] + after[:3])
            + ("…" if len(after) > 3 else ""))


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())
