"""CPU, memory and disk of the machine the doctor runs on, against PostHog's hobby-install minimums.

This is the doctor's own machine: the PostHog host when the doctor runs on it or in a container beside
it, but not when a hero runs it from a laptop. The report says so. Inside a container the limits the
container imposes are what counts, so they are used when lower than the machine's.
"""

from __future__ import annotations

from posthog_doctor.check import (
    Advice,
    Check,
    Context,
    Evidence,
    Finding,
    Item,
    Option,
    Outcome,
    Table,
    Values,
    conclude,
    units,
)

from .common import docs

GiB = 1024**3  # memory as the hobby docs count it ("8GB"), in binary units like every size here
# A machine sold with N GB reports a little less (the kernel and firmware keep some), so N GB counts as met
# from 90% of it on.
MARKETED = 0.9


class HostResources(Check):
    """CPU, memory and free disk where the doctor runs, compared with the hobby install's needs."""

    id = "host.resources"
    title = "Resources of the machine the doctor runs on"
    uses = ("host",)
    tags = ("host",)
    category = "Performance"
    timeout = 5.0
    options = {
        # PostHog's own installer: bin/deploy-hobby @ c6869d4 (2021) "You really need 4gb or more of memory to
        # run this stack"; today's (HEAD) "You REALLY need 8GB or more of memory to run this stack". The current
        # docs ask for "4 vCPU, 16GB RAM, and more than 30GB storage" (contents/docs/self-host/index.mdx).
        "min_memory_gb": Option(
            4.0, "fail below this: every hobby installer since 2021 asks for at least 4 GB (bin/deploy-hobby)"
        ),
        "recommended_memory_gb": Option(
            8.0, "warn below this: today's hobby installer says it REALLY needs 8 GB (bin/deploy-hobby)"
        ),
        "disk_warn_free_pct": Option(15.0, "warn when a disk has less free space than this"),
        "disk_fail_free_pct": Option(5.0, "fail when a disk has less free space than this"),
        "memory_fail_available_pct": Option(5.0, "fail when less memory than this is available right now"),
    }

    def run(self, ctx: Context) -> Outcome:
        facts = ctx.host
        o = ctx.options
        available_pct = 100 * facts.memory_available / facts.memory_total if facts.memory_total else 100.0
        findings: list[Finding] = memory_findings(facts.effective_memory, o)
        if available_pct < o["memory_fail_available_pct"]:
            findings.append(Finding.fail(f"only {available_pct:.0f}% of memory is available right now"))
        for disk in facts.disks:
            free_pct = 100 * (1 - disk.used_fraction)
            if free_pct < o["disk_fail_free_pct"]:
                findings.append(Finding.fail(f"disk {disk.path} has only {free_pct:.0f}% free"))
            elif free_pct < o["disk_warn_free_pct"]:
                findings.append(Finding.warn(f"disk {disk.path} has {free_pct:.0f}% free"))

        where = "in a container" if facts.in_container else "on this machine"
        cpus = f"{facts.effective_cpus:g}" if facts.cpu_limit else str(facts.cpu_count)
        headline = f"{cpus} CPUs, {units.size(facts.effective_memory)} memory ({available_pct:.0f}% available) {where}"
        evidence: list[Evidence] = [
            Values(
                "The doctor's machine (not necessarily PostHog's)",
                [
                    Item("CPUs", facts.cpu_count, "cpu_count"),
                    Item("CPU limit of the container", facts.cpu_limit, "cpu_limit"),
                    Item("Memory", units.size(facts.memory_total), "memory_total"),
                    Item(
                        "Memory limit of the container",
                        units.size(facts.memory_limit) if facts.memory_limit else None,
                        "memory_limit",
                    ),
                    Item("Memory available", units.size(facts.memory_available), "memory_available"),
                    Item(
                        "Load average (1, 5, 15 min)", list(facts.load_average) if facts.load_average else None, "load"
                    ),
                    Item("Running in a container", facts.in_container, "in_container"),
                ],
            ),
            Table(
                "Disks",
                ["Path", "Size", "Free", "Free %"],
                [
                    [d.path, units.size(d.total), units.size(d.free), round(100 * (1 - d.used_fraction), 1)]
                    for d in facts.disks
                ],
            ),
        ]
        advice = Advice(
            "These figures describe the machine the doctor ran on. If that is PostHog's host: today's hobby stack "
            "needs 8 GB of memory (its installer says so) and PostHog's docs ask for 4 vCPUs, 16 GB and more than "
            "30 GB of disk; installs from 2021 ran on 4 GB. Keep 15% of each disk free.",
            links=[docs.SELF_HOST],
        )
        return conclude(findings, headline, evidence=evidence, advice=[advice], suffix=f" ({where})")


def memory_findings(memory: int, o) -> list[Finding]:
    """Memory against the hobby installer's needs (a fail below the minimum, a warn below today's need)."""
    if memory < o["min_memory_gb"] * GiB * MARKETED:
        return [
            Finding.fail(
                f"{units.size(memory)} memory, below the {o['min_memory_gb']:g} GB every hobby installer asks for",
                Advice(
                    "PostHog's hobby installer has asked for at least 4 GB since 2021 and asks for 8 GB today: give "
                    "the host more memory.",
                    links=[docs.SELF_HOST],
                ),
            )
        ]
    if memory < o["recommended_memory_gb"] * GiB * MARKETED:
        return [
            Finding.warn(
                f"{units.size(memory)} memory, below the {o['recommended_memory_gb']:g} GB today's hobby stack needs",
                Advice(
                    "Today's hobby installer says it REALLY needs 8 GB; a 2021-era install ran on 4 GB, a current one "
                    "(Temporal, Elasticsearch, the Rust services) does not.",
                    links=[docs.SELF_HOST],
                ),
            )
        ]
    return []
