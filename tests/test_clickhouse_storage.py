"""clickhouse.event_volume and clickhouse.disk, read from part metadata, on ClickHouse 18.16 and chdb.

The oracle for every figure is an independent query over the same data (counting rows, not parts), or,
for the disk, the bytes of the parts planted inside the growth window: all planted event parts lie wholly
inside the last 8 days or wholly before the last 30, and merges are stopped, so nothing is estimated.
"""

from __future__ import annotations

import pytest

from tests.clickhouse_support import DAY, ENGINES, HOUR, evidence, make_deployment, run_doctor, table_rows, values

VOLUME, DISK = "clickhouse.event_volume", "clickhouse.disk"


@pytest.fixture(scope="module", params=ENGINES)
def storage(request, tmp_path_factory):
    dep = make_deployment(request, "storage")
    dep.create_posthog_schema()
    for i in range(10):  # 1,000 recent events in ten inserts (ten parts), 2 h to 7 days old
        dep.plant_events(100, first_age=2 * HOUR + i * 60_000, spacing=600)
    dep.plant_events(400, first_age=60 * DAY, spacing=60)
    dep.plant_events(250, first_age=95 * DAY, spacing=60)
    out = tmp_path_factory.mktemp(f"storage-{dep.engine}")
    runs = {
        "default": run_doctor(
            dep, out / "default", "--only", VOLUME, "--only", DISK, "--option", f"{DISK}.growth_days=8"
        ),
        "crowded": run_doctor(
            dep,
            out / "crowded",
            "--only",
            VOLUME,
            "--option",
            f"{VOLUME}.parts_warn_fraction=0.001",
            "--option",
            f"{DISK}.warn_free_pct=100",
        ),
        "tight": run_doctor(dep, out / "tight", "--only", DISK, "--option", f"{DISK}.warn_free_pct=100"),
    }
    return dep, runs


def test_events_per_month_match_a_count_of_the_rows(storage):
    dep, runs = storage
    result = runs["default"].check(VOLUME)
    counted = dep.execute(
        "SELECT toString(toYYYYMM(timestamp)) AS month, count() FROM events GROUP BY month ORDER BY month DESC"
    )
    assert [(r["Month"], r["Events"]) for r in table_rows(result, "Events per month")] == [
        (m, int(n)) for m, n in counted
    ]
    figures = values(result, "Events stored")
    assert (figures["stored_rows"], figures["partitions"]) == (1650, len(counted))
    assert figures["recent_days"] == 1000  # every recent part lies inside the 30 days: the estimate is exact
    assert result["status"] == "ok" and result["metrics"]["events_stored"] == 1650
    chart = evidence(result, "Events stored per month")
    assert [p["value"] for p in chart["points"]] == [int(n) for _, n in reversed(counted)]


def test_events_per_day_cover_thirty_days(storage):
    _, runs = storage
    days = evidence(runs["default"].check(VOLUME), "Events per day")["points"]
    # The 1,000 recent events (2 h to 7 days old) all fall in the last 9 calendar days, whatever the hour
    # the test runs at; the rounding of each day's share may move the total by a few events.
    assert len(days) == 30 and sum(p["value"] for p in days[-9:]) == pytest.approx(1000, abs=9)
    assert all(p["value"] == 0 for p in days[:-9])  # nothing older than the planted week (and its edges)


def test_parts_near_the_too_many_parts_limit_warn(storage):
    dep, runs = storage
    limits = dict(
        dep.execute(
            "SELECT name, value FROM system.merge_tree_settings "
            "WHERE name IN ('parts_to_delay_insert', 'parts_to_throw_insert')"
        )
    )
    crowded = runs["crowded"].check(VOLUME)
    assert crowded["status"] == "warn"
    assert f"near parts_to_delay_insert ({limits['parts_to_delay_insert']})" in crowded["summary"]
    busiest = table_rows(crowded, "Partitions with the most active parts")[0]
    assert busiest["Table"] == "events" and busiest["Active parts"] >= 5
    assert evidence(crowded, "Partitions").get("note") == (
        f"parts_to_delay_insert = {limits['parts_to_delay_insert']}, "
        f"parts_to_throw_insert = {limits['parts_to_throw_insert']}"
    )
    assert runs["default"].check(VOLUME)["metrics"]["max_parts_in_a_partition"] == busiest["Active parts"]


def test_disk_forecast_from_recent_parts(storage):
    dep, runs = storage
    result = runs["default"].check(DISK)
    if not dep.has_system_table("disks"):
        assert result["status"] == "skipped"
        assert result["summary"].startswith(f"ClickHouse {dep.version} has no system.disks (added in 19.15)")
        return
    since = "now() - 8 * 86400"
    straddling, planted = dep.execute(
        f"SELECT countIf(min_time < {since} AND max_time >= {since}), sumIf(bytes_on_disk, max_time >= {since}) "
        "FROM system.parts WHERE active"
    )[0]
    assert int(straddling) == 0  # so the growth is exactly the planted bytes over 8 days
    free, total = (
        int(v) for v in dep.execute("SELECT free_space, total_space FROM system.disks WHERE name = 'default'")[0]
    )
    metrics = result["metrics"]
    assert metrics["disk_growth_bytes_per_day"] == pytest.approx(int(planted) / 8, abs=0.1)
    assert metrics["disk_days_until_full"] == pytest.approx(free / (int(planted) / 8), rel=0.02)
    assert metrics["disk_min_free_pct"] == pytest.approx(100 * free / total, abs=0.5)
    row = table_rows(result, "ClickHouse disks")[0]
    assert row["Disk"] == "default" and row["Days until full"] == metrics["disk_days_until_full"]
    tight = runs["tight"].check(DISK)
    assert tight["status"] == "warn" and tight["summary"].startswith("disk default has ")
