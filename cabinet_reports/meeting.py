"""The meeting file: what democratic services write to compile an agenda and its pack.

A meeting file names the council, the body (Cabinet, a committee), the date, time and venue,
the democratic services contact, the membership and the ordered agenda items. There are three
kinds of item, told apart by the key that names their papers:

* a procedural item (``title`` and optional ``text``): Apologies, Declarations of interest,
  Public questions. It is listed on the agenda and has no pages of its own;
* an attached PDF (``pdf: minutes.pdf``, relative to the meeting file): included as supplied;
* a report (``report: ../folder/report.yaml``, relative to the meeting file).

Any item may be Part B (exempt): ``exempt: 3`` or ``exempt: {paragraphs: [3, 4]}``. A report
whose own classification is exempt is Part B without saying so here. ``public_title`` is the
title the public agenda and the public pack show for a Part B item; every Part B item must have
one (its own title is never shown in public: it may itself be exempt information). Likewise
``public_report_of`` is the report-of line the public agenda shows for a Part B item (none if
it is not given): who wrote a report can itself be exempt. The full pack shows the real ones.

Like the report model, every model forbids unknown keys, so a typo is an error with its line.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, Union

from pydantic import BeforeValidator, Discriminator, Field, StringConstraints, Tag, field_validator

from .models import Contact, Council, Day, Model, Text, _listify

Jurisdiction = Literal["england", "wales"]
ExemptJurisdiction = Literal["england", "wales", "england-pre-2006"]

# Clear days before the meeting by jurisdiction (Local Government Act 1972 s100B; Wales: 3).
DEFAULT_CLEAR_DAYS = {"england": 5, "wales": 3}


def _paragraph_list(value: Any) -> Any:
    """``paragraphs: 3`` is short for ``paragraphs: [3]`` (models._listify leaves numbers alone)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    return _listify(value)


class Exemption(Model):
    """Why an item is Part B: its Schedule 12A paragraph(s) and the schedule they come from.

    ``jurisdiction`` defaults to the meeting's; use ``england-pre-2006`` for the old
    15-paragraph schedule that reports before March 2006 cite.
    """

    paragraphs: Annotated[list[int], BeforeValidator(_paragraph_list)] = Field(min_length=1, max_length=20)
    jurisdiction: ExemptJurisdiction | None = None


def _exemption(value: Any) -> Any:
    """``exempt: 3`` and ``exempt: [3, 4]`` are short for ``exempt: {paragraphs: …}``."""
    if isinstance(value, (int, list)) and not isinstance(value, bool):
        return {"paragraphs": value}
    return value


ExemptField = Annotated[Exemption, BeforeValidator(_exemption)] | None


class _Item(Model):
    exempt: ExemptField = None
    public_title: Text | None = None


class ProceduralItem(_Item):
    """A text-only item: it appears on the agenda and has no pages in the pack."""

    title: Text
    text: Text | None = None


ReportOf = Annotated[list[Text], BeforeValidator(_listify)]


class AttachmentItem(_Item):
    """An existing PDF (minutes, a consultant's study), included in the pack as supplied."""

    pdf: Text
    title: Text
    report_of: ReportOf = Field(default_factory=list, max_length=10)
    public_report_of: ReportOf | None = Field(default=None, max_length=10)  # Part B: the public agenda's
    text: Text | None = None


class ReportItem(_Item):
    """A report file; the agenda takes its title and report-of line from the report."""

    report: Text
    title: Text | None = None  # agenda title, if it should differ from the report's
    public_report_of: ReportOf | None = Field(default=None, max_length=10)  # Part B: the public agenda's
    text: Text | None = None


# pydantic puts the union tag into an error's location (items.1.<tag>.public_title). Tags that
# are not field names keep validation.data_path from walking into the item's `report:` value
# and blaming it (and its line) for an error in another field.
_REPORT, _PDF, _TEXT = "report item", "attached PDF item", "procedural item"


def _item_kind(value: Any) -> str:
    if isinstance(value, dict):
        if "report" in value:
            return _REPORT
        if "pdf" in value:
            return _PDF
        return _TEXT
    return {"ReportItem": _REPORT, "AttachmentItem": _PDF}.get(type(value).__name__, _TEXT)


AgendaItem = Annotated[
    Union[
        Annotated[ReportItem, Tag(_REPORT)],
        Annotated[AttachmentItem, Tag(_PDF)],
        Annotated[ProceduralItem, Tag(_TEXT)],
    ],
    Discriminator(_item_kind),
]


class Member(Model):
    """A member of the body: ``Councillor A. Name`` and an optional role (``Chair``)."""

    name: Text
    role: Text | None = None


def _member(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


class Settings(Model):
    """Publication rules: the jurisdiction and the number of clear working days."""

    jurisdiction: Jurisdiction = "england"
    clear_days: Annotated[int, Field(ge=0, le=60)] | None = None  # None: 5 (England) or 3 (Wales)
    publish_on_working_day: bool = True

    @property
    def days(self) -> int:
        """Return the clear days required before the meeting."""
        return self.clear_days if self.clear_days is not None else DEFAULT_CLEAR_DAYS[self.jurisdiction]


def _council(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


class Meeting(Model):
    """A meeting and its ordered agenda items."""

    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")] = "en-GB"
    council: Annotated[Council, BeforeValidator(_council)]
    body: Text
    date: Day
    time: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    venue: Text
    contact: Contact
    membership: list[Annotated[Member, BeforeValidator(_member)]] = Field(default_factory=list, max_length=200)
    items: list[AgendaItem] = Field(min_length=1, max_length=500)
    settings: Settings = Field(default_factory=Settings)

    @field_validator("time", mode="before")
    @classmethod
    def _time_is_text(cls, value: Any) -> Any:
        # YAML 1.1 reads an unquoted 18:00 as the number 1080 (base 60).
        if isinstance(value, int) and not isinstance(value, bool):
            raise ValueError('write the time in quotes, e.g. time: "6.00 pm" (YAML reads 18:00 as a number)')
        if isinstance(value, dt.time):
            return value.strftime("%H:%M")
        return value


def is_meeting_data(data: Any) -> bool:
    """Return True for the data of a meeting file: a mapping with agenda ``items`` (a report has none)."""
    return isinstance(data, dict) and "items" in data and "sections" not in data
