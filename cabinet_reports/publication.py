"""Statutory publication deadlines for agendas and reports.

Local Government Act 1972 s100B (as amended in 2002) requires the agenda and reports to
be open to the public at least 5 *clear days* before the meeting (Wales: 3). The Act does
not define "clear days" precisely; the reading councils use, and the one implemented here:

* the day of publication does not count, and neither does the day of the meeting;
* Saturdays, Sundays and bank holidays do not count;
* so the clear days are the working days strictly between publication and meeting.

Because councils differ (some also close between Christmas and New Year, some count
differently), the number of clear days, extra closed days and whether publication itself
must happen on a working day are all parameters.

Bank holidays come from the ``holidays`` library, including substitute ("observed") days
and one-off days such as the State Funeral of 19 September 2022.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta

import holidays

__all__ = [
    "JURISDICTIONS",
    "clear_working_days_between",
    "is_working_day",
    "latest_publication_date",
]

# Accepted spellings -> holidays.UnitedKingdom subdivision code. England and Wales share
# bank holidays but not the clear-day rule, so they keep separate names.
JURISDICTIONS: dict[str, str] = {
    "england": "ENG",
    "eng": "ENG",
    "wales": "WLS",
    "wls": "WLS",
    "cymru": "WLS",
    "scotland": "SCT",
    "sct": "SCT",
    "northern ireland": "NIR",
    "northern-ireland": "NIR",
    "northern_ireland": "NIR",
    "ni": "NIR",
    "nir": "NIR",
}

_ONE_DAY = timedelta(days=1)


def _subdivision(jurisdiction: str) -> str:
    """Map a jurisdiction name to its ``holidays`` subdivision code, or raise ValueError."""
    code = JURISDICTIONS.get(jurisdiction.strip().lower())
    if code is None:
        raise ValueError(
            f"Unknown jurisdiction {jurisdiction!r}: use one of "
            "'england', 'wales', 'scotland' or 'northern-ireland'."
        )
    return code


def _working_day_test(jurisdiction: str, extra_closed_days: Iterable[date]) -> Callable[[date], bool]:
    """Build a predicate telling whether a day is a working day in *jurisdiction*."""
    # A fresh calendar per call: holidays objects grow as years are looked up, and a
    # shared one would be mutated from several threads in a web service.
    bank_holidays = holidays.UnitedKingdom(subdiv=_subdivision(jurisdiction))
    closed = frozenset(extra_closed_days)

    def working(day: date) -> bool:
        """Tell whether *day* is a weekday that is neither a bank holiday nor closed."""
        return day.weekday() < 5 and day not in bank_holidays and day not in closed

    return working


def _as_date(value: date) -> date:
    """Drop the time part of a datetime so comparisons are by calendar day."""
    # datetime is a subclass of date; its arithmetic would otherwise keep the time.
    return date(value.year, value.month, value.day)


def is_working_day(
    day: date, *, jurisdiction: str = "england", extra_closed_days: Iterable[date] = ()
) -> bool:
    """Tell whether *day* is a working day: a weekday, not a bank holiday, not closed."""
    return _working_day_test(jurisdiction, extra_closed_days)(_as_date(day))


def clear_working_days_between(
    published: date,
    meeting: date,
    *,
    jurisdiction: str = "england",
    extra_closed_days: Iterable[date] = (),
) -> int:
    """Count the clear working days strictly between *published* and *meeting*.

    Neither end counts. Returns 0 when the meeting is the same day as, the day after, or
    before the publication.
    """
    working = _working_day_test(jurisdiction, extra_closed_days)
    day, end = _as_date(published) + _ONE_DAY, _as_date(meeting)
    count = 0
    while day < end:
        count += working(day)
        day += _ONE_DAY
    return count


def latest_publication_date(
    meeting: date,
    *,
    clear_days: int = 5,
    jurisdiction: str = "england",
    extra_closed_days: Iterable[date] = (),
    publish_on_working_day: bool = True,
) -> date:
    """Return the last day the agenda may be published and still give *clear_days* clear days.

    Counting back from the meeting, the *clear_days* working days before it are the clear
    days; publication must be before the earliest of them. With
    ``publish_on_working_day`` (the default) the result is moved back further to a
    working day, because the papers must be open to inspection at the council's offices
    on the day they are published; set it to False to allow, say, a Sunday upload.

    Use ``clear_days=3`` for Welsh councils. Raises ValueError for a negative
    *clear_days* or an unknown *jurisdiction*.
    """
    if clear_days < 0:
        raise ValueError(f"clear_days must be 0 or more, not {clear_days}")
    closed = list(extra_closed_days)
    working = _working_day_test(jurisdiction, closed)
    day = _as_date(meeting)
    found = 0
    while found < clear_days:
        day -= _ONE_DAY
        found += working(day)
    # `day` is now the earliest clear day (or the meeting itself for clear_days=0).
    published = day - _ONE_DAY
    if publish_on_working_day:
        while not working(published):
            published -= _ONE_DAY
    return published
