"""One way of saying sizes, durations, ages and counts, everywhere in a report."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from posthog_doctor import units


@pytest.mark.parametrize(
    "seconds, said",
    [
        (0, "0 s"),
        (42, "42 s"),
        (600, "10 min"),
        (10980, "3 h 3 min"),
        (9000, "2 h 30 min"),
        (86400, "24 h"),
        (90000, "25 h"),
        (100000, "1 d 3 h"),
        (259200, "3 d"),
        (604800, "7 d"),
        (-5, "0 s"),
    ],
)
def test_durations_are_said_one_way(seconds, said):
    assert units.duration(seconds) == said


def test_an_unknown_duration_says_so():
    assert units.duration(None) == "unknown" and units.duration(float("nan")) == "unknown"


@given(st.floats(min_value=0, max_value=10 * 365 * 86400))
def test_every_duration_uses_one_vocabulary(seconds):
    """Never "2.5 h" or "3 days": whole numbers of s, min, h and d only."""
    words = units.duration(seconds).split()
    assert all(w.isdigit() for w in words[0::2]) and set(words[1::2]) <= {"s", "min", "h", "d"}


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("24h", 86400),
        ("90m", 5400),
        ("90min", 5400),
        ("7d", 604800),
        ("2w", 1209600),
        ("36", 129600),
        ("1.5h", 5400),
        (" 3 days ", 259200),
        ("45s", 45),
    ],
)
def test_durations_parse(text, seconds):
    assert units.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0h", "-1h", "soon", "24x", "1h30m"])
def test_bad_durations_are_refused(text):
    with pytest.raises(ValueError, match="not a duration"):
        units.parse_duration(text)


def test_sizes_are_binary_like_the_servers_count_them():
    assert [units.size(n) for n in (512, 1536 * 1024, 3.5 * 1024**3, 2 * 1024**5)] == [
        "512 B",
        "1.5 MiB",
        "3.5 GiB",
        "2.0 PiB",
    ]


def test_counts_read_the_way_people_say_them():
    assert [units.approx(n) for n in (950, 12_345, 2e6, 5_600_000, 3.2e9)] == ["950", "12.3k", "2M", "5.6M", "3.2bn"]


def test_timestamps_and_times():
    assert units.parse_timestamp("2024-03-10T12:00:00Z").isoformat() == "2024-03-10T12:00:00+00:00"
    assert units.parse_timestamp("2024-03-10 12:00:00").tzinfo is not None  # no zone: UTC
    assert units.parse_timestamp("yesterday") is None
    assert units.utc(1710072000) == "2024-03-10 12:00 UTC" and units.utc(0) == "—"
    assert units.milliseconds(850) == "850 ms" and units.milliseconds(1234) == "1.2 s"
