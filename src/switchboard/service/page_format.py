"""How the review page writes numbers and times: short follower counts (12.3k) and times that
say which clock they are on.

Times are rendered as UTC, labelled "UTC", inside a `<time datetime=...>` element; the page's
script rewrites them into the reviewer's own time zone (named) when it runs, so a page without
script is still unambiguous.
"""

from __future__ import annotations

from datetime import UTC, datetime

from markupsafe import Markup, escape


def compact_count(n: int | None) -> str:
    """12345 -> "12.3k", 2_500_000 -> "2.5M"; under a thousand as is; None -> ""."""
    if n is None:
        return ""
    for size, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if abs(n) >= size:
            short = f"{n / size:.1f}".removesuffix(".0")
            if short == "1000" and suffix != "B":  # 999,950 rounds up to the next unit
                return "1" + {"k": "M", "M": "B"}[suffix]
            return short + suffix
    return str(n)


def utc_text(when: datetime) -> str:
    """Like 2026-11-23 14:05 UTC; a naive time is taken as UTC, as the database returns it."""
    aware = when if when.tzinfo else when.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def time_tag(when: datetime) -> Markup:
    """A `<time>` in UTC that the page's script shows in the reviewer's time zone."""
    aware = when if when.tzinfo else when.replace(tzinfo=UTC)
    iso = aware.astimezone(UTC).isoformat().replace("+00:00", "Z")
    text = escape(utc_text(aware))
    return Markup(f'<time datetime="{iso}" data-local title="{text}">{text}</time>')
