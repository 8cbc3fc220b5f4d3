"""Spread counts known only per time range (a part's min and max event time) evenly over calendar days."""

from __future__ import annotations

from collections import defaultdict

from ._common import DAY


def spread_over_days(ranges, since: int, until: int) -> dict[int, float]:
    """{day start: amount} for the days in [since, until), from (start, end, amount) ranges.

    Each range's amount is shared in proportion to the seconds it spends in each day (a range of a single
    second falls in its day whole); the parts of ranges outside [since, until) are dropped.
    """
    days: dict[int, float] = defaultdict(float)
    for start, end, amount in ranges:
        start, end = int(start), int(end)
        if not amount or end < start:
            continue
        length = end - start + 1  # inclusive: a part whose rows share one second still covers that second
        lo, hi = max(start, since), min(end + 1, until)
        day = lo - lo % DAY
        while day < hi:
            overlap = min(hi, day + DAY) - max(lo, day)
            if overlap > 0:
                days[day] += amount * overlap / length
            day += DAY
    return dict(days)
