"""Tests for statutory publication deadlines, each case worked out by hand."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from cabinet_reports.publication import (
    clear_working_days_between,
    is_working_day,
    latest_publication_date,
)


def test_wednesday_meeting_without_holidays() -> None:
    """Wednesday 11 June 2025 (no bank holidays nearby) -> publish Tuesday 3 June.

    Counting back from the meeting, the clear working days are
    Tue 10, Mon 9, (Sun 8, Sat 7 skipped), Fri 6, Thu 5, Wed 4 = 5 clear days.
    Publication must be before the earliest clear day, Wed 4, so the latest publication
    day is Tue 3 June: the Tuesday of the week before, 8 calendar days earlier.
    """
    meeting = date(2025, 6, 11)
    assert meeting.strftime("%A") == "Wednesday"
    assert latest_publication_date(meeting) == date(2025, 6, 3)
    assert clear_working_days_between(date(2025, 6, 3), meeting) == 5
    # One day later (Wed 4) leaves only 4 clear days: too late.
    assert clear_working_days_between(date(2025, 6, 4), meeting) == 4


def test_meeting_after_easter_2025() -> None:
    """Wednesday 23 April 2025, after Good Friday 18 and Easter Monday 21 April -> Fri 11 April.

    Back from the meeting: Tue 22 (1), Mon 21 Easter Monday (no), Sun 20, Sat 19 (no),
    Fri 18 Good Friday (no), Thu 17 (2), Wed 16 (3), Tue 15 (4), Mon 14 (5).
    Publication must precede Mon 14; Sat 12 and Sun 13 are not working days, so the
    latest publication day is Friday 11 April. Forgetting Easter would give Tue 15,
    two working days too late (the mistake that has made councils move meetings).
    """
    meeting = date(2025, 4, 23)
    assert latest_publication_date(meeting) == date(2025, 4, 11)
    assert clear_working_days_between(date(2025, 4, 15), meeting) == 3
    assert clear_working_days_between(date(2025, 4, 11), meeting) == 5
    # Allowing a weekend upload gives the Sunday just before the first clear day.
    assert latest_publication_date(meeting, publish_on_working_day=False) == date(2025, 4, 13)


def test_meeting_after_christmas_england_and_scotland() -> None:
    """Monday 5 January 2026: England -> Tue 23 Dec 2025; Scotland -> Mon 22 Dec 2025.

    England, back from Mon 5 Jan: Fri 2 Jan (1), Thu 1 Jan New Year's Day (no),
    Wed 31 (2), Tue 30 (3), Mon 29 (4), weekend, Fri 26 Boxing Day and Thu 25 Christmas
    (no), Wed 24 (5) -> publish by Tue 23 December.
    Scotland also has 2 January as a bank holiday, so the fifth clear day is Tue 23 and
    publication must be by Mon 22 December.
    """
    meeting = date(2026, 1, 5)
    assert latest_publication_date(meeting) == date(2025, 12, 23)
    assert latest_publication_date(meeting, jurisdiction="scotland") == date(2025, 12, 22)
    # A council that also shuts its offices 29-31 December must publish earlier still:
    # clear days become Fri 2, Wed 24, Tue 23, Mon 22, Fri 19 -> publish Thu 18 Dec.
    shut = [date(2025, 12, 29), date(2025, 12, 30), date(2025, 12, 31)]
    assert latest_publication_date(meeting, extra_closed_days=shut) == date(2025, 12, 18)


def test_dudley_cabinet_16_march_2005() -> None:
    """Dudley Cabinet, Wednesday 16 March 2005 -> publish by Tuesday 8 March 2005.

    No English bank holiday falls nearby (Good Friday 2005 was 25 March). Back from the
    meeting: Tue 15 (1), Mon 14 (2), weekend, Fri 11 (3), Thu 10 (4), Wed 9 (5), so the
    agenda had to be out by Tuesday 8 March.
    """
    meeting = date(2005, 3, 16)
    assert meeting.strftime("%A") == "Wednesday"
    assert latest_publication_date(meeting) == date(2005, 3, 8)
    assert clear_working_days_between(date(2005, 3, 8), meeting) == 5


def test_wales_three_clear_days() -> None:
    """Welsh councils pass clear_days=3.

    Wed 11 June 2025: Tue 10, Mon 9, Fri 6 -> publish by Thu 5 June.
    Wed 23 April 2025: Tue 22, (Mon 21, Fri 18 holidays), Thu 17, Wed 16 -> Tue 15 April.
    """
    assert latest_publication_date(date(2025, 6, 11), clear_days=3, jurisdiction="wales") == date(
        2025, 6, 5
    )
    assert latest_publication_date(date(2025, 4, 23), clear_days=3, jurisdiction="Wales") == date(
        2025, 4, 15
    )


def test_northern_ireland_st_patricks_day() -> None:
    """Wed 19 March 2025: St Patrick's Day (Mon 17) is a holiday only in Northern Ireland.

    England: Tue 18, Mon 17, Fri 14, Thu 13, Wed 12 -> Tue 11 March.
    Northern Ireland: Tue 18, Fri 14, Thu 13, Wed 12, Tue 11 -> Mon 10 March.
    """
    meeting = date(2025, 3, 19)
    assert latest_publication_date(meeting) == date(2025, 3, 11)
    assert latest_publication_date(meeting, jurisdiction="northern-ireland") == date(2025, 3, 10)


def test_one_off_bank_holiday_2022_state_funeral() -> None:
    """Thu 22 Sept 2022: Mon 19 (State Funeral) is skipped -> Wed 21, Tue 20, Fri 16, Thu 15, Wed 14 -> Tue 13."""
    assert latest_publication_date(date(2022, 9, 22)) == date(2022, 9, 13)


def test_monday_meeting_lands_publication_on_friday_or_earlier() -> None:
    """Mon 16 June 2025: clear days Fri 13, Thu 12, Wed 11, Tue 10, Mon 9 -> Fri 6 June."""
    assert latest_publication_date(date(2025, 6, 16)) == date(2025, 6, 6)


def test_clear_working_days_edge_cases() -> None:
    """Adjacent days, same day and reversed order have no clear days; datetimes count by day."""
    assert clear_working_days_between(date(2025, 6, 10), date(2025, 6, 11)) == 0
    assert clear_working_days_between(date(2025, 6, 11), date(2025, 6, 11)) == 0
    assert clear_working_days_between(date(2025, 6, 12), date(2025, 6, 11)) == 0
    assert clear_working_days_between(datetime(2025, 6, 3, 23, 59), datetime(2025, 6, 11, 9, 30)) == 5
    # Friday to Monday: only a weekend in between.
    assert clear_working_days_between(date(2025, 6, 6), date(2025, 6, 9)) == 0


@pytest.mark.parametrize("jurisdiction", ["england", "wales", "scotland", "northern-ireland"])
@pytest.mark.parametrize("clear_days", [0, 1, 3, 5, 28])
def test_result_is_the_latest_compliant_day(jurisdiction: str, clear_days: int) -> None:
    """For every meeting day from December to May (Christmas, New Year, St Patrick's Day,
    Easter): the result complies, is a working day, and no later working day would."""
    day = date(2024, 12, 1)
    while day < date(2025, 6, 1):
        published = latest_publication_date(day, clear_days=clear_days, jurisdiction=jurisdiction)
        assert is_working_day(published, jurisdiction=jurisdiction)
        assert (
            clear_working_days_between(published, day, jurisdiction=jurisdiction) >= clear_days
        )
        later = published + timedelta(days=1)
        while later < day:
            if is_working_day(later, jurisdiction=jurisdiction):
                assert (
                    clear_working_days_between(later, day, jurisdiction=jurisdiction)
                    < clear_days
                )
                break
            later += timedelta(days=1)
        day += timedelta(days=1)


def test_is_working_day() -> None:
    """Weekends, bank holidays and extra closed days are not working days."""
    assert is_working_day(date(2025, 6, 11))
    assert not is_working_day(date(2025, 6, 14))  # Saturday
    assert not is_working_day(date(2025, 4, 18))  # Good Friday
    assert not is_working_day(date(2025, 6, 11), extra_closed_days=[date(2025, 6, 11)])
    assert is_working_day(date(2026, 1, 2)) and not is_working_day(date(2026, 1, 2), jurisdiction="SCT")


def test_unknown_jurisdiction_is_a_friendly_error() -> None:
    """A typo names the valid choices."""
    with pytest.raises(ValueError, match=r"Unknown jurisdiction 'englnd'.*'england', 'wales'"):
        latest_publication_date(date(2025, 6, 11), jurisdiction="englnd")
    with pytest.raises(ValueError, match="Unknown jurisdiction"):
        clear_working_days_between(date(2025, 6, 1), date(2025, 6, 11), jurisdiction="UK")


def test_negative_clear_days_is_an_error() -> None:
    """clear_days must not be negative."""
    with pytest.raises(ValueError, match="clear_days"):
        latest_publication_date(date(2025, 6, 11), clear_days=-1)
