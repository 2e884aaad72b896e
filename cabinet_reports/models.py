"""The input model: what an officer writes, validated by pydantic.

These classes describe the report as authored (YAML, JSON or Python). They hold no numbers:
numbering and cross-references are computed once, later, by :mod:`cabinet_reports.document`.
Every model forbids unknown keys so that a typo (``titel:``) is an error with a suggestion
rather than silently ignored content.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    PrivateAttr,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from .limits import LIST_ITEMS as MAX_ITEMS, NESTING as MAX_NESTING, TEXT_CHARS as MAX_TEXT, check_date

# MAX_TEXT, MAX_ITEMS and MAX_NESTING keep a typo or a hostile file from exhausting the
# renderer; limits.py lists them (and the document-wide limits) with their reasons.

# Characters XML (and so DOCX, PDF text and HTML) cannot carry. YAML escapes ("\x0b") and JSON
# ("\u0000") can still produce them; refusing them here gives a located error instead of a
# crash inside a renderer.
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _xml_safe(value: str) -> str:
    found = _XML_UNSAFE.search(value)
    if found:
        raise ValueError(f"contains the control character U+{ord(found.group()):04X}, which a document cannot hold")
    return value


# The string constraints come first: after a validator pydantic would check max_length as a
# generic length ("Value should have at most 20000 items") instead of "String should have at
# most 20000 characters".
XmlSafe = AfterValidator(_xml_safe)
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT), XmlSafe]
Label = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.:-]{0,79}$")]
Day = Annotated[dt.date, AfterValidator(check_date)]  # a calendar date from 1800 on (limits.py)


def _listify(value: Any) -> Any:
    """Accept a single value where a list is expected (``report_of: Chief Executive``)."""
    return [value] if isinstance(value, (str, dict)) else value


class Model(BaseModel):
    """Base for every input model: unknown keys are errors, values are checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


# --------------------------------------------------------------------------- blocks
class Paragraph(Model):
    """A numbered paragraph (1.1, 2.3 …)."""

    p: Text
    label: Label | None = None


class PlainParagraph(Model):
    """An unnumbered paragraph."""

    text: Text


class SubHeading(Model):
    """An unnumbered sub-heading inside a section."""

    heading: Text


class ListItem(Model):
    """One item of a lettered or bulleted list, with optional follow-on blocks."""

    text: Text
    label: Label | None = None
    blocks: list["Block"] = Field(default_factory=list, max_length=MAX_ITEMS)


def _item(value: Any) -> Any:
    return {"text": value} if isinstance(value, str) else value


Item = Annotated[ListItem, BeforeValidator(_item)]


class SubPoint(Model):
    """A numbered sub-point (2.1.1) with an optional heading, text and follow-on blocks."""

    subpoint: Text | None = None
    text: Text | None = None
    label: Label | None = None
    blocks: list["Block"] = Field(default_factory=list, max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _has_content(self) -> "SubPoint":
        if not (self.subpoint or self.text or self.blocks):
            raise ValueError("a sub-point needs a heading (subpoint), text or blocks")
        return self


# A list's own numbering format: "{n}." reads 1., 2.; "({a})" (a), (b); "{i}." i., ii. …
ListFormat = Annotated[str, StringConstraints(min_length=1, max_length=20), XmlSafe]


class LetteredList(Model):
    """A lettered (or numbered) list: (a), (b) … restarting for every list.

    ``format`` chooses the markers ("{n}.", "({n})", "({a})", "{a}.", "{i}.", "({i})");
    without it the theme's format for the section, or for the nesting level, applies.
    """

    letters: list[Item] = Field(min_length=1, max_length=MAX_ITEMS)
    format: ListFormat | None = None

    @field_validator("format")
    @classmethod
    def _format_fields(cls, value: str | None) -> str | None:
        if value is None:
            return value
        from .theme import FORMAT_FIELDS, check_format  # theme imports nothing from models
        check_format(value, FORMAT_FIELDS["letters"])
        if not any(f"{{{name}}}" in value for name in FORMAT_FIELDS["letters"]):
            raise ValueError("a list format needs one of {n}, {a}, {A}, {i} or {I}, e.g. \"{n}.\" or \"({a})\"")
        return value


class AppendixList(Model):
    """A list of the report's appendices ("Appendix A – Action plan"), made from ``appendices``."""

    appendix_list: bool = True


class BulletList(Model):
    """A bulleted list."""

    bullets: list[Item] = Field(min_length=1, max_length=MAX_ITEMS)


class TimelineEntry(Model):
    """One dated step of a timeline (``when`` is free text: "Week commencing 20th January")."""

    when: Text
    text: Text
    blocks: list["Block"] = Field(default_factory=list, max_length=MAX_ITEMS)


class Timeline(Model):
    """A dated timeline, rendered as a list of "when - what" entries."""

    timeline: list[TimelineEntry] = Field(min_length=1, max_length=MAX_ITEMS)


# Plain numbers the way a reader expects them printed: "12500", "-300", "1.5", "0.50", "1,250.00".
_PLAIN_FIGURE = re.compile(r"^[-+]?(\d+|\d{1,3}(,\d{3})+)(\.\d+)?$")


def _cell_text(value: Any) -> Any:
    """Accept a number (or a date) where a table cell's text is expected, as it was written.

    YAML reads ``12500``, ``-300`` and ``0.50`` as numbers; the loader keeps the text each was
    written as, so ``0.50`` still prints "0.50" (and ``010`` "010"). Spellings that would not
    print as a figure (``1_000``, ``1e3``, ``1:30``, which YAML reads as 90) and ``yes``/``no``
    (read as true/false) are refused with what to write instead.
    """
    if isinstance(value, bool):
        raise ValueError(f"YAML read this cell as {'true' if value else 'false'} (from yes/no, on/off or "
                         "true/false): put the text in quotes, for example \"Yes\"")
    if isinstance(value, (int, float)):
        text = getattr(value, "source_text", None)
        if text is None:  # given from Python, or by a reader that does not keep the text
            text = str(value)
        if not _PLAIN_FIGURE.match(text):
            raise ValueError(f"YAML read {text} as the number {value!r}, which would not print as written: "
                             f"put the figure in quotes as it should be printed, for example \"{_suggest(value, text)}\"")
        return text
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _suggest(value: int | float, text: str) -> str:
    # "010" and "1:30" were meant as written; "1_000" and "1e3" as the figure.
    return text if re.fullmatch(r"[-+]?[\d:]+", text) else f"{value:,}"


# The schema says what the validator accepts, so an editor does not flag an unquoted 12500.
_CELL_SCHEMA = {"type": ["string", "number"], "maxLength": MAX_TEXT}
CellText = Annotated[str, StringConstraints(max_length=MAX_TEXT), XmlSafe, BeforeValidator(_cell_text),
                     WithJsonSchema(_CELL_SCHEMA)]
# One total row, or a list of them.
_FOOTER_SCHEMA = {"anyOf": [{"type": "array", "items": _CELL_SCHEMA, "minItems": 1},
                            {"type": "array", "items": {"type": "array", "items": _CELL_SCHEMA}, "maxItems": 20}]}
Align = Literal["left", "right", "centre", "center"]


class TableSpec(Model):
    """A table: one header row, body rows, optional total (footer) rows, and column layout.

    ``align`` gives each column's alignment (figures are right-aligned: ``[left, right,
    right]``); ``widths`` gives relative column widths (``[3, 1, 1]``: the first column three
    times as wide as each other). ``footer`` rows (totals) print bold under a rule.
    """

    header: list[Text] = Field(min_length=1, max_length=50)
    rows: list[list[CellText]] = Field(default_factory=list, max_length=10_000)
    footer: Annotated[list[list[CellText]], WithJsonSchema(_FOOTER_SCHEMA)] = Field(default_factory=list,
                                                                                     max_length=20)
    caption: Text | None = None
    align: list[Align] | None = None
    widths: list[Annotated[float, Field(gt=0, le=1000)]] | None = None

    @field_validator("footer", mode="before")
    @classmethod
    def _one_footer_row(cls, value: Any) -> Any:
        # "footer: [Total, 1200]" is one row; a list of lists is several.
        if isinstance(value, list) and value and not any(isinstance(v, list) for v in value):
            return [value]
        return value

    @model_validator(mode="after")
    def _rows_fit_header(self) -> "TableSpec":
        columns = len(self.header)
        for name, rows in (("row", self.rows), ("footer row", self.footer)):
            for i, row in enumerate(rows):
                if len(row) != columns:
                    hint = ""
                    if len(row) > columns:
                        hint = ("; in a [flow, list] a comma separates cells, so quote figures with commas: "
                                "[Staff, \"1,000\"]")
                    raise ValueError(f"{name} {i + 1} has {len(row)} cells but the header has {columns}{hint}")
        for key in ("align", "widths"):
            given = getattr(self, key)
            if given is not None and len(given) != columns:
                raise ValueError(f"{key} gives {len(given)} columns but the header has {columns}")
        return self

    def column_align(self) -> list[str]:
        """Return each column's alignment: "left", "right" or "center"."""
        return ["center" if a == "centre" else a for a in (self.align or ["left"] * len(self.header))]


class Table(Model):
    """A table block."""

    table: TableSpec
    label: Label | None = None


BLOCK_KINDS = {
    "p": "Paragraph",
    "text": "PlainParagraph",
    "heading": "SubHeading",
    "subpoint": "SubPoint",
    "letters": "LetteredList",
    "bullets": "BulletList",
    "timeline": "Timeline",
    "table": "Table",
    "appendix_list": "AppendixList",
}


def _block_kind(value: Any) -> str | None:
    """Return which block a mapping is, by the key that names its kind."""
    if isinstance(value, BaseModel):
        for key, cls in BLOCK_KINDS.items():
            if type(value).__name__ == cls:
                return key
        return None
    if isinstance(value, dict):
        for key in _DETECT_ORDER:
            if key in value:
                return key
    return None


# Keys that only one kind of block has are checked first: a sub-point may also carry
# ``text`` (and a list item's follow-on blocks ``heading``), so ``text`` alone must not win.
_DETECT_ORDER = ("subpoint", "letters", "bullets", "timeline", "table", "appendix_list", "p", "heading", "text")
assert set(_DETECT_ORDER) == set(BLOCK_KINDS)


def _block_shorthand(value: Any) -> Any:
    """A bare string in a block list is a numbered paragraph."""
    return {"p": value} if isinstance(value, str) else value


Block = Annotated[
    Union[
        Annotated[Paragraph, Tag("p")],
        Annotated[PlainParagraph, Tag("text")],
        Annotated[SubHeading, Tag("heading")],
        Annotated[SubPoint, Tag("subpoint")],
        Annotated[LetteredList, Tag("letters")],
        Annotated[BulletList, Tag("bullets")],
        Annotated[Timeline, Tag("timeline")],
        Annotated[Table, Tag("table")],
        Annotated[AppendixList, Tag("appendix_list")],
    ],
    Discriminator(
        _block_kind,
        custom_error_type="block_kind",
        custom_error_message="a block needs one of the keys " + ", ".join(BLOCK_KINDS),
    ),
    BeforeValidator(_block_shorthand),
]


# --------------------------------------------------------------------------- title block
class Council(Model):
    """The council: its name and optional logo (a file next to the report)."""

    name: Text
    logo: Annotated[str, StringConstraints(max_length=255), XmlSafe] | None = None

    @field_validator("logo")
    @classmethod
    def _logo_inside_report_folder(cls, value: str | None) -> str | None:
        # The renderer may only read files in the report's own folder (and the theme's); say
        # so here, with the line, rather than let the fetcher silently drop the image.
        if value is None:
            return value
        parts = value.replace("\\", "/").split("/")
        if value.startswith(("/", "\\")) or (len(value) > 1 and value[1] == ":") or ".." in parts:
            raise ValueError("the logo must be a file inside the report's folder "
                             "(a relative path without '..')")
        return value


class Meeting(Model):
    """The meeting the report goes to."""

    body: Text
    date: Day
    item: Annotated[str, StringConstraints(max_length=20), XmlSafe] | None = None


class MeetingRef(Model):
    """Another meeting at which the report will be considered (scrutiny before Cabinet, then Council)."""

    body: Text
    date: dt.date
    item: Annotated[str, StringConstraints(max_length=20), XmlSafe] | None = None


class Contact(Model):
    """A contact officer or author."""

    name: Text
    role: Text | None = None
    phone: Annotated[str, StringConstraints(max_length=40), XmlSafe] | None = None
    email: Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=200), XmlSafe] | None = None


class KeyDecision(Model):
    """Whether this is a key decision, and its forward plan reference."""

    key: bool
    forward_plan: Text | None = None


def _key_decision(value: Any) -> Any:
    if isinstance(value, bool):
        return {"key": value}
    if isinstance(value, str) and value.strip():
        # A bare reference ("FP/830/05/17") means: yes, with that forward plan entry.
        return {"key": True, "forward_plan": value}
    return value


# Schedule 12A paragraphs by jurisdiction: England since 2006 (1–7), Wales (12–18), and the
# pre-2006 English schedule (1–15) that older reports cite.
EXEMPT_PARAGRAPHS = {"england": range(1, 8), "wales": range(12, 19), "england-pre-2006": range(1, 16)}


class Classification(Model):
    """Public, or exempt under Schedule 12A with paragraph numbers and jurisdiction."""

    status: Literal["public", "exempt"] = "public"
    paragraphs: list[int] = Field(default_factory=list, max_length=20)
    jurisdiction: Literal["england", "wales", "england-pre-2006"] = "england"
    reason: Text | None = None

    @model_validator(mode="after")
    def _paragraphs_match_status(self) -> "Classification":
        if self.status == "exempt":
            if not self.paragraphs:
                raise ValueError("an exempt report must name its Schedule 12A paragraph(s)")
            allowed = EXEMPT_PARAGRAPHS[self.jurisdiction]
            bad = [p for p in self.paragraphs if p not in allowed]
            if bad:
                raise ValueError(
                    f"paragraph {bad[0]} is not in Schedule 12A for {self.jurisdiction} "
                    f"({allowed.start}–{allowed.stop - 1})")
        elif self.paragraphs:
            raise ValueError("a public report has no exempt paragraphs; set status: exempt")
        return self

    @property
    def exempt(self) -> bool:
        """Return True when the report is exempt (Part B)."""
        return self.status == "exempt"


def _classification(value: Any) -> Any:
    return {"status": value} if isinstance(value, str) else value


class Signatory(Model):
    """A person signing the report."""

    name: Text
    title: Text | None = None


def _clearance(value: Any) -> Any:
    if isinstance(value, str):
        raise ValueError("a clearance is a mapping such as {kind: finance, name: A. Person, role: Chief Finance "
                         "Officer, date: YYYY-MM-DD}, not text")
    return value


class Clearance(Model):
    """One sign-off of the report: who cleared it (finance, legal, the portfolio holder …), as what, and when.

    ``kind`` is one of the theme's clearance kinds (theme.yaml ``clearances.kinds``); it is
    checked against the theme when the report is numbered, as ``cover:`` fields are. An
    undated clearance, or one dated after the meeting, is a lint finding, not an error: a
    draft is written before it is cleared.
    """

    kind: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40), XmlSafe]
    name: Text
    role: Text
    date: Day | None = None
    reference: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80), XmlSafe] | None = None
    note: Text | None = None


Place = Literal["cover-top", "cover", "body"]


class Section(Model):
    """A report section: optional heading override, numbering and place, and its blocks.

    ``numbered`` and ``place`` override the theme's choice for this section: ``numbered:
    false`` keeps it out of the section numbering; ``place: cover-top`` (before the header
    table) or ``cover`` (after it) puts it in the cover area, unnumbered.
    """

    heading: Text | None = None
    numbered: bool | None = None
    place: Place | None = None
    blocks: list[Block] = Field(default_factory=list, max_length=MAX_ITEMS)


def _section(value: Any) -> Any:
    if value is None:  # "background:" with nothing under it: reported as an empty section
        return {"blocks": []}
    return {"blocks": value} if isinstance(value, (list, str)) else value


class Appendix(Model):
    """An appendix: title, optional label for cross-references, and its blocks."""

    title: Text
    label: Label | None = None
    blocks: list[Block] = Field(default_factory=list, max_length=MAX_ITEMS)


SectionKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class Report(Model):
    """A cabinet report or briefing note as authored."""

    kind: Literal["report", "note"] = "report"
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")] = "en-GB"
    council: Council
    meeting: Meeting | None = None
    date: Day | None = None
    title: Text
    subtitle: Text | None = None
    reference: Annotated[str, StringConstraints(max_length=80), XmlSafe] | None = None
    report_of: Annotated[list[Text], BeforeValidator(_listify)] = Field(default_factory=list, max_length=10)
    contact: Contact | None = None
    contacts: Annotated[list[Contact], BeforeValidator(_listify)] = Field(default_factory=list, max_length=20)
    portfolio_holder: Annotated[list[Text], BeforeValidator(_listify)] = Field(default_factory=list, max_length=10)
    decision_maker: Text | None = None
    lead_officer: Annotated[list[Text], BeforeValidator(_listify)] = Field(default_factory=list, max_length=10)
    meetings: Annotated[list[MeetingRef], BeforeValidator(_listify)] = Field(default_factory=list, max_length=10)
    purpose: Literal["decision", "discussion", "noting", "information", "consultation"] | None = None
    urgency: Text | None = None
    cover: dict[SectionKey, Any] = Field(default_factory=dict, max_length=60)
    wards: Annotated[list[Text], BeforeValidator(_listify)] = Field(default_factory=list, max_length=100)
    key_decision: Annotated[KeyDecision, BeforeValidator(_key_decision)] | None = None
    classification: Annotated[Classification, BeforeValidator(_classification)] = Field(
        default_factory=Classification)
    sections: dict[SectionKey, Annotated[Section, BeforeValidator(_section)]] = Field(
        default_factory=dict, max_length=60)
    signatories: Annotated[list[Signatory], BeforeValidator(_listify)] = Field(default_factory=list, max_length=20)
    appendices: list[Appendix] = Field(default_factory=list, max_length=100)
    clearances: Annotated[list[Annotated[Clearance, BeforeValidator(_clearance)]], BeforeValidator(_listify)] = Field(
        default_factory=list, max_length=30)

    # Where the report was read from (file name, field lines, folder for assets), if a file.
    _source: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _has_date(self) -> "Report":
        if self.kind == "report" and self.meeting is None:
            raise ValueError("a report needs a meeting (body and date); use kind: note for a briefing note")
        if self.meeting is None and self.date is None:
            raise ValueError("a note needs a date")
        return self

    @property
    def all_contacts(self) -> list[Contact]:
        """Return every contact officer: ``contact`` first, then ``contacts``."""
        return ([self.contact] if self.contact else []) + list(self.contacts)

    @property
    def issue_date(self) -> dt.date:
        """Return the date the document carries: its own date, else the meeting's."""
        return self.date or self.meeting.date  # type: ignore[union-attr]


for _cls in (ListItem, SubPoint, TimelineEntry, Section, Appendix, Report):
    _cls.model_rebuild()
