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


class HostResources(Check):
    """CPU, memory and free disk where the doctor runs, compared with the hobby install's needs."""

    id = "host.resources"
    title = "Resources of the machine the doctor runs on"
    uses = ("host",)
    tags = ("host",)
    category = "Performance"
    timeout = 5.0
    options = {
        # PostHog's hobby docs: 2 GB handles about 100k events a month; at least 4 GB is highly recommended.
        "min_memory_gb": Option(2.0, "below this the hobby install cannot run (fail)"),
        "recommended_memory_gb": Option(4.0, "below this the hobby install struggles with surges (warn)"),
        "disk_warn_free_pct": Option(15.0, "warn when a disk has less free space than this"),
        "disk_fail_free_pct": Option(5.0, "fail when a disk has less free space than this"),
        "memory_fail_available_pct": Option(5.0, "fail when less memory than this is available right now"),
    }

    def run(self, ctx: Context) -> Outcome:
        facts = ctx.host
        o = ctx.options
        memory_gb = facts.effective_memory / GiB
        available_pct = 100 * facts.memory_available / facts.memory_total if facts.memory_total else 100.0
        findings: list[Finding] = []
        if memory_gb < o["min_memory_gb"]:
            findings.append(
                Finding.fail(
                    f"{units.size(facts.effective_memory)} memory, below the {o['min_memory_gb']:g} GiB PostHog needs"
                )
            )
        elif memory_gb < o["recommended_memory_gb"]:
            findings.append(
                Finding.warn(
                    f"{units.size(facts.effective_memory)} memory, below the recommended "
                    f"{o['recommended_memory_gb']:g} GiB"
                )
            )
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
            "These figures describe the machine the doctor ran on. If that is PostHog's host: give it "
            "at least 4 GB of memory and keep 15% of each disk free; above about 100k events a month "
            "the hobby install is not enough.",
            links=[docs.DEPLOYMENT],
        )
        return conclude(findings, headline, evidence=evidence, advice=[advice], suffix=f" ({where})")
