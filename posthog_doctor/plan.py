"""The plan: which checks run against this target, and why each of the others does not."""

from __future__ import annotations

from dataclasses import dataclass, field

from .check import Check
from .config import ConfigError, Settings
from .registry import Registry
from .topology import COMPONENTS


@dataclass
class PlanEntry:
    check: type[Check]
    runs: bool
    reason: str = ""  # why it is skipped, when it does not run


@dataclass
class Plan:
    entries: list[PlanEntry] = field(default_factory=list)
    deselected: list[str] = field(default_factory=list)  # left out by --only/--skip

    @property
    def components(self) -> list[str]:
        """Components the running checks touch: the ones worth probing."""
        return list(dict.fromkeys(c for e in self.entries if e.runs for c in e.check.components()))


def matches(check: type[Check], term: str) -> bool:
    """A selection term names a check id, an id prefix (`clickhouse` for `clickhouse.*`) or a tag."""
    return check.id == term or check.id.startswith(term + ".") or term in check.tags


def select(registry: Registry, only: list[str], skip: list[str]) -> tuple[list[type[Check]], list[str]]:
    checks = registry.sorted()
    for flag, terms in (("--only", only), ("--skip", skip)):
        for term in terms:
            if not any(matches(c, term) for c in checks):
                raise ConfigError(
                    f"{flag} {term!r}: no check id, id prefix or tag matches (see 'posthog-doctor checks')"
                )
    chosen = [
        c for c in checks if (not only or any(matches(c, t) for t in only)) and not any(matches(c, t) for t in skip)
    ]
    deselected = [c.id for c in checks if c not in chosen]
    return chosen, deselected


def make_plan(registry: Registry, settings: Settings) -> Plan:
    chosen, deselected = select(registry, settings.only, settings.skip)
    plan = Plan(deselected=deselected)
    for check in chosen:
        reason = ""
        for name in check.needs:
            if name in settings.endpoints and settings.endpoints[name] is None:
                reason = f"{COMPONENTS[name].label} is disabled in the configuration"
            elif name == "status_snapshot" and settings.status_file is None:
                reason = "needs a saved System Status page (--status-file FILE)"
            if reason:
                break
        plan.entries.append(PlanEntry(check, not reason, reason))
    return plan
