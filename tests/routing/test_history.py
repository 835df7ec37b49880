"""The activity windows as a fold (routing/history.py): what the batch job computes, and what
the service's counters compute (tests/service/test_history.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from switchboard.routing.history import ActivityFold, counts
from switchboard.routing.types import AuthorHistory

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
NEGATIVE = counts({"intent": "complaint", "sentiment": "negative", "reply_action": "public"})
TROLL = counts({"intent": "troll", "sentiment": "neutral", "reply_action": "none"})


def test_author_history_is_the_last_seven_utc_days_today_included() -> None:
    """Check a mention six UTC days back counts and one seven days back does not."""
    fold = ActivityFold()
    start_of_today = NOW.replace(hour=0)
    fold.add("a", None, start_of_today - timedelta(days=7), NEGATIVE)  # day d-7: out
    fold.add("a", None, start_of_today - timedelta(days=6), NEGATIVE)  # day d-6: in
    fold.add("a", None, NOW - timedelta(minutes=1), TROLL)
    assert fold.history("a", NOW) == AuthorHistory(2, 1, 1, 1)
    assert fold.history("b", NOW) == AuthorHistory()
    assert fold.history(None, NOW) == AuthorHistory()


def test_brand_volume_needs_a_usual_rate_and_compares_fifteen_minutes_with_the_day() -> None:
    """Check the ratio is 1.0 under 20 mentions a day, and recent / (day / 96) above it."""
    fold = ActivityFold()
    for i in range(19):
        fold.add(None, "acme", NOW - timedelta(hours=20) + timedelta(minutes=i), (1, 0, 0, 0))
    assert fold.volume("acme", NOW) == 1.0
    for i in range(5):
        fold.add(None, "acme", NOW - timedelta(minutes=10) + timedelta(seconds=i), (1, 0, 0, 0))
    assert fold.volume("acme", NOW) == 5 / (24 / 96)
    # A day later the old mentions have left the window and nothing defines a usual rate.
    assert fold.volume("acme", NOW + timedelta(days=1)) == 1.0
    assert fold.volume("globex", NOW) == 1.0
