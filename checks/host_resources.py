"""CPU, memory and disk of the machine the doctor runs on, against PostHog's hobby-install minimums.

This is the doctor's own machine: the PostHog host when the doctor runs on it or in a container beside
it, but not when a hero runs it from a laptop. The report says so. Inside a container the limits the
container imposes are what counts, so they are used when lower than the machine's.
"""

from __future__ import annotations

from posthog_doctor.check import Check, Option, ok, verdict
from posthog_doctor.model import Advice, Item, Table, Values, worst

DEPLOYMENT_DOCS = "https://posthog.com/docs/self-host/open-source/deployment"
GB = 1_000_000_000


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

    def run(self, ctx):
        facts = ctx.host
        o = ctx.options
        memory_gb = facts.effective_memory / GB
        available_pct = 100 * facts.memory_available / facts.memory_total if facts.memory_total else 100.0
        findings: list[tuple[str, str]] = []  # (status, sentence)
        if memory_gb < o["min_memory_gb"]:
            findings.append(("fail", f"{memory_gb:.1f} GB memory, below the {o['min_memory_gb']:g} GB PostHog needs"))
        elif memory_gb < o["recommended_memory_gb"]:
            findings.append(("warn", f"{memory_gb:.1f} GB memory, below the recommended {o['recommended_memory_gb']:g} GB"))
        if available_pct < o["memory_fail_available_pct"]:
            findings.append(("fail", f"only {available_pct:.0f}% of memory is available right now"))
        for disk in facts.disks:
            free_pct = 100 * (1 - disk.used_fraction)
            if free_pct < o["disk_fail_free_pct"]:
                findings.append(("fail", f"disk {disk.path} has only {free_pct:.0f}% free"))
            elif free_pct < o["disk_warn_free_pct"]:
                findings.append(("warn", f"disk {disk.path} has {free_pct:.0f}% free"))

        where = "in a container" if facts.in_container else "on this machine"
        cpus = f"{facts.effective_cpus:g}" if facts.cpu_limit else str(facts.cpu_count)
        headline = f"{cpus} CPUs, {memory_gb:.1f} GB memory ({available_pct:.0f}% available) {where}"
        evidence = [
            Values("The doctor's machine (not necessarily PostHog's)", [
                Item("CPUs", facts.cpu_count, "cpu_count"),
                Item("CPU limit of the container", facts.cpu_limit, "cpu_limit"),
                Item("Memory", f"{facts.memory_total / GB:.1f} GB", "memory_total"),
                Item("Memory limit of the container",
                     f"{facts.memory_limit / GB:.1f} GB" if facts.memory_limit else None, "memory_limit"),
                Item("Memory available", f"{facts.memory_available / GB:.1f} GB", "memory_available"),
                Item("Load average (1, 5, 15 min)", list(facts.load_average) if facts.load_average else None, "load"),
                Item("Running in a container", facts.in_container, "in_container"),
            ]),
            Table("Disks", ["Path", "Size", "Free", "Free %"],
                  [[d.path, f"{d.total / GB:.1f} GB", f"{d.free / GB:.1f} GB", round(100 * (1 - d.used_fraction), 1)]
                   for d in facts.disks]),
        ]
        if not findings:
            return ok(headline, evidence=evidence)
        status = worst(s for s, _ in findings)
        summary = "; ".join(text for _, text in findings) + f" ({where})"
        advice = [Advice("These figures describe the machine the doctor ran on. If that is PostHog's host: give it "
                         "at least 4 GB of memory and keep 15% of each disk free; above about 100k events a month "
                         "the hobby install is not enough.", links=[DEPLOYMENT_DOCS])]
        return verdict(status, summary, evidence=evidence, advice=advice)
