"""Pack consistency checks: does every report belong to this meeting, and is the meeting's day right?

Takes a :class:`~cabinet_reports.pack.load.LoadedMeeting` (the meeting file validated and every
report loaded); gives a list of :class:`PackWarning` — a located
:class:`~cabinet_reports.errors.Problem` with the name of its check and a severity — without
rendering anything. Each warning is located in the file whose line it is: a report's stated
meeting in the report file, the meeting's date in the meeting file.

The checks (``CHECKS``, run in order by :func:`pack_warnings`):

* ``report-meeting`` — a report says it is for another council, another body or another date,
  or gives an agenda item number (``meeting.item``) that is not its place on this agenda. A
  report on its way through several meetings matches if any of ``meeting`` and ``meetings``
  is this one (body and date); names are compared ignoring case, spacing, a leading "the" and
  a trailing "Council";
* ``meeting-day`` — the meeting falls on a Saturday, a Sunday or a bank holiday of the
  meeting's jurisdiction (``settings.jurisdiction``; ``holidays``);
* ``listed-twice`` — the same report or PDF is on the agenda twice (listed once public and
  once Part B it is an error instead: see :func:`cabinet_reports.pack.load.load_meeting`).

:func:`~cabinet_reports.pack.load.load_meeting` runs them, so ``make-report pack`` and
``make-report check MEETING.yaml`` give the same warnings (``pack`` adds the publication-date
warning of ``--published-on``, which ``check`` has no date for); ``--strict`` makes any warning exit 2
with nothing written. A further check (missing clearances, say) is one more function
``(LoadedMeeting) -> Iterable[PackWarning]`` in ``CHECKS``; a warning of severity "error" stops
the pack (exit 2, nothing written) as an invalid input does.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from ..errors import Problem
from ..loader import Source, format_field_path

if TYPE_CHECKING:
    from ..lint import Finding
    from ..models import Report
    from .load import LoadedMeeting, PackItem

__all__ = ["CHECKS", "PackWarning", "pack_warnings", "same_name", "shown_path", "stated_item", "this_meeting"]


@dataclass(frozen=True)
class PackWarning:
    """One finding about a pack: a located problem, the check that found it and its severity."""

    check: str
    problem: Problem
    severity: str = "warning"  # or "error": the pack is refused

    def __str__(self) -> str:
        return str(self.problem)

    def finding(self) -> Finding:
        """Return it as a lint finding, for `make-report check` (text or JSON)."""
        from ..lint import Finding

        p = self.problem
        return Finding(self.check, self.severity, p.message, p.file, p.line, p.field)


def shown_path(path: str | os.PathLike) -> str:
    """Return a file's name as messages show it: relative to the current folder when inside it."""
    text = os.fspath(path)
    try:
        relative = os.path.relpath(text)
    except ValueError:  # another drive (Windows)
        return text
    return text if relative.startswith("..") else relative


def _in_report(report: Report, path: tuple, message: str) -> Problem:
    source: Source | None = report._source
    return Problem(message, shown_path(source.name) if source else None,
                   source.line_of(path) if source else None, format_field_path(path))


def same_name(a: str, b: str) -> bool:
    """Return True when two names of a council or body are the same for a reader.

    "the Cabinet" is "Cabinet", "Dudley Metropolitan Borough Council" is "Dudley Metropolitan
    Borough", and case, spacing and "&" for "and" do not matter.
    """
    def key(name: str) -> str:
        words = name.casefold().replace("&", " and ").split()
        if words[:1] == ["the"]:
            words = words[1:]
        if words[-1:] == ["council"] and len(words) > 1:
            words = words[:-1]
        return " ".join(words)
    return key(a) == key(b)


def stated_item(text: str) -> str:
    """Return an agenda item number as written in a report, without "Agenda item" or a full stop."""
    return re.sub(r"^(agenda\s+)?item\s*", "", text.strip().casefold()).strip().rstrip(".").strip()


def this_meeting(report: Report, body: str, date: dt.date) -> tuple[tuple, Any] | None:
    """Return the field path and entry of the report's meetings that is the given meeting, or None.

    ``meeting`` first, then ``meetings`` (a report considered by scrutiny, then Cabinet).
    """
    if report.meeting is None:
        return None
    entries = [(("meeting",), report.meeting)] + [(("meetings", i), e) for i, e in enumerate(report.meetings)]
    return next(((path, e) for path, e in entries if e.date == date and same_name(e.body, body)), None)


# --------------------------------------------------------------------------- the checks
def report_meeting(loaded: LoadedMeeting) -> Iterator[PackWarning]:
    """Warn about reports that name another council, body, date or item number than this meeting's."""
    meeting = loaded.meeting
    for item in loaded.items:
        report = item.report
        if report is None:
            continue
        if not same_name(report.council.name, meeting.council.name):
            yield PackWarning("report-meeting", _in_report(
                report, ("council", "name"),
                f"this report is from {report.council.name} but the meeting is of {meeting.council.name}"))
        if report.meeting is None:  # a briefing note: no meeting to compare
            continue
        found = this_meeting(report, meeting.body, meeting.date)
        if found is None:
            own = report.meeting
            if own.date != meeting.date:
                yield PackWarning("report-meeting", _in_report(
                    report, ("meeting", "date"),
                    f"this report is for {own.date.isoformat()} but the meeting is on {meeting.date.isoformat()}"))
            if not same_name(own.body, meeting.body):
                yield PackWarning("report-meeting", _in_report(
                    report, ("meeting", "body"),
                    f"this report is for {own.body} but the meeting is of {meeting.body}"))
            continue  # its item number is on another agenda
        path, entry = found
        if entry.item is not None and stated_item(entry.item) != str(item.number):
            yield PackWarning("report-meeting", _in_report(
                report, path + ("item",),
                f"this report says it is agenda item {entry.item} but it is item {item.number} on the agenda "
                f"(the pack prints {item.number})"))


def meeting_day(loaded: LoadedMeeting) -> Iterator[PackWarning]:
    """Warn about a meeting on a weekend or a bank holiday of its jurisdiction."""
    import holidays  # only here: `check` of a report does not pay for it

    meeting, source = loaded.meeting, loaded.source
    day = meeting.date
    on = f"the meeting is on {day.strftime('%A')} {day.isoformat()}"
    jurisdiction = meeting.settings.jurisdiction
    holiday = holidays.UnitedKingdom(subdiv={"england": "ENG", "wales": "WLS"}[jurisdiction], years=day.year).get(day)
    problem = None
    if day.weekday() >= 5:
        problem = f"{on}, a weekend: check the date"
    elif holiday:
        problem = f"{on}, a bank holiday in {jurisdiction.title()} ({holiday}): check the date"
    if problem:
        yield PackWarning("meeting-day", Problem(problem, source.name, source.line_of(("date",)), "date"))


def listed_twice(loaded: LoadedMeeting) -> Iterator[PackWarning]:
    """Warn about a report or PDF listed more than once (with the same Part B status)."""
    source = loaded.source
    first: dict[tuple[int, int], PackItem] = {}
    for item in loaded.items:
        if item.path is None:
            continue
        st = item.path.stat()
        earlier = first.setdefault((st.st_dev, st.st_ino), item)
        if earlier is not item:
            key = "report" if item.kind == "report" else "pdf"
            yield PackWarning("listed-twice", Problem(
                f"this {'report' if key == 'report' else 'PDF'} is also item {earlier.number}: it is on the "
                "agenda twice", source.name, source.line_of(("items", item.index, key)),
                format_field_path(("items", item.index, key))))


CHECKS: list[Callable[[LoadedMeeting], Iterable[PackWarning]]] = [report_meeting, meeting_day, listed_twice]


def pack_warnings(loaded: LoadedMeeting) -> list[PackWarning]:
    """Run every consistency check on a loaded meeting; return the warnings, in check order.

    A warning found twice (a report listed twice is from another council both times) is one.
    """
    return list(dict.fromkeys(warning for check in CHECKS for warning in check(loaded)))
