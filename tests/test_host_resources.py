"""host.resources: the thresholds come from PostHog's own installer and docs (audit row 53), not from 2021's alone."""

from __future__ import annotations

import pytest

from posthog_doctor.checks.host_resources import GiB, HostResources, memory_findings
from tests.conftest import target

DEFAULTS = {name: option.default for name, option in HostResources.options.items()}


@pytest.mark.parametrize(
    "gib, status",
    [
        (3.0, "fail"),  # below what every hobby installer since 2021 asks for
        (3.7, "warn"),  # a 4 GB machine as the kernel reports it: enough for 2021, not for today's stack
        (6.0, "warn"),
        (7.6, None),  # an 8 GB machine as the kernel reports it
        (16.0, None),
    ],
)
def test_memory_is_judged_against_the_hobby_installer(gib, status):
    found = memory_findings(int(gib * GiB), DEFAULTS)
    assert [f.status.value for f in found] == ([status] if status else [])


def test_the_warning_names_todays_need_and_its_source():
    (finding,) = memory_findings(6 * GiB, DEFAULTS)
    assert finding.text == "6.0 GiB memory, below the 8 GB today's hobby stack needs"
    assert "REALLY needs 8 GB" in finding.advice[0].text
    assert finding.advice[0].links == ["https://posthog.com/docs/self-host"]
    assert "bin/deploy-hobby" in HostResources.options["recommended_memory_gb"].help
    assert "bin/deploy-hobby" in HostResources.options["min_memory_gb"].help


def test_a_real_run_gives_the_current_requirements(doctor):
    check = doctor(
        "run", "--only", "host.resources", *target(), "-O", "host.resources.recommended_memory_gb=100000"
    ).check("host.resources")
    assert check["status"] == "warn" and "below the 100000 GB today's hobby stack needs" in check["summary"]
    texts = " ".join(a["text"] for a in check["advice"])
    assert "4 vCPUs, 16 GB and more than 30 GB of disk" in texts
    assert "100k events" not in texts  # the 2021 claim, dropped
