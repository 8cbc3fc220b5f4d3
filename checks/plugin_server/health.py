"""The plugin server's own verdict: `GET /_health` (every ingestion consumer healthy?) and `GET /_ready`
(Kafka consumer ready?), on its HTTP port (6738).

`/_health` answers 200 `{"status":"ok","checks":{...}}`, or 503 with `"status":"error"` and the failing
sub-checks set to "error" (plugin-server/src/main/services/http-server.ts); older versions answer
`{"status":"ok"|"error"}` without sub-checks, the oldest plain text. `/_ready` answers 503 while the Kafka
consumer is not ready; versions before it answer 404. Newer Django decides "plugin server alive" from
exactly this: `/_health` answering 200.
"""

from __future__ import annotations

from posthog_doctor.check import (
    Check,
    ConnectorError,
    Context,
    ErrorKind,
    Finding,
    Outcome,
    Skip,
    Table,
    conclude,
    fail,
)

from ..common.web import HealthAnswer, health
from ._advice import LOOK_NEXT, RESTART, describe_sub_checks

# What each way of not answering means for a plugin server, in the words a customer can act on.
# Other failures (a wrong URL, TLS, DNS) say nothing about its health: plugin_server.connection reports them.
NO_ANSWER = {
    "refused": "is not running ({detail})",
    "timeout": "does not answer: it is stuck or overloaded, or a firewall drops the connection ({detail})",
    "protocol": "closed the connection without a proper answer ({detail})",
}


class PluginServerHealth(Check):
    """Asks the plugin server whether it is healthy (`/_health`) and ready to consume (`/_ready`), naming each
    failing part."""

    id = "plugin_server.health"
    title = "Plugin server health"
    uses = ("plugin_server",)
    tags = ("plugin_server", "ingestion")
    category = "Deployments/Maintenance"
    timeout = 15.0

    def run(self, ctx: Context) -> Outcome:
        probe = ctx.probe("plugin_server")
        if not probe.reachable:
            return self._no_answer(probe.error_kind, probe.summary)
        try:
            answer = health(ctx, "plugin_server", "/_health")
        except ConnectorError as exc:
            return self._no_answer(exc.kind, str(exc))
        findings = [judge_health(answer)]
        rows = [_row(answer)]
        try:
            ready = health(ctx, "plugin_server", "/_ready")
            findings.append(judge_ready(ready))
            rows.append(_row(ready))
        except ConnectorError as exc:
            findings.append(Finding.warn(f"/_ready did not answer: {exc}"))
            rows.append(["/_ready", "—", "no answer", str(exc)])

        evidence = [Table("Health endpoints", ["Endpoint", "HTTP", "Status", "Body"], rows)]
        checks = sub_checks(answer)
        if checks:
            evidence.append(Table("Sub-checks of /_health", ["Check", "State"], [[k, v] for k, v in checks.items()]))
        return conclude(findings, findings[0].text, evidence=evidence, advice=[RESTART, LOOK_NEXT])

    def _no_answer(self, kind: ErrorKind | None, detail: str) -> Outcome:
        if kind not in NO_ANSWER:
            raise Skip(f"plugin server unavailable ({detail}); see plugin_server.connection")
        return fail(
            "the plugin server " + NO_ANSWER[kind].format(detail=detail) + ", so no event is being ingested",
            advice=[RESTART, LOOK_NEXT],
        )


def sub_checks(answer: HealthAnswer) -> dict[str, str]:
    checks = answer.fields().get("checks")
    return {str(k): str(v) for k, v in checks.items()} if isinstance(checks, dict) else {}


def judge_health(answer: HealthAnswer) -> Finding:
    """The verdict of `/_health` in one sentence, from its status code first (as Django reads it), then its body."""
    failing = [name for name, state in sub_checks(answer).items() if state.lower() != "ok"]
    reported = str(answer.fields().get("status", "")).lower()
    if answer.ok:
        if answer.is_json and reported in ("ok", "") and not failing:
            names = ", ".join(sub_checks(answer)) or "no sub-checks listed"
            return Finding.ok(f"the plugin server reports itself healthy ({names})")
        if not answer.is_json and answer.excerpt.strip().lower() == "ok":
            return Finding.ok("the plugin server reports itself healthy (older plain-text /_health)")
        if answer.is_json:
            return Finding.warn(
                f"/_health answered HTTP {answer.status} but its body says {reported or 'nothing'!r}"
                + (f" with failing sub-checks {describe_sub_checks(failing)}" if failing else "")
            )
        return Finding.warn(
            f"/_health answered HTTP {answer.status} with a body that is not the plugin server's "
            f"health JSON ({answer.content_type or 'no content type'}: {answer.excerpt!r}): "
            "is this URL the plugin server (port 6738)?"
        )
    if answer.status == 404:
        return Finding.warn("there is no /_health at this address: is this URL the plugin server (port 6738)?")
    if answer.status >= 500 and answer.is_json:
        if failing:
            return Finding.fail(
                f"the plugin server reports itself unhealthy (HTTP {answer.status}): failing "
                f"{describe_sub_checks(failing)}"
            )
        return Finding.fail(
            f"the plugin server reports itself unhealthy (HTTP {answer.status}, status "
            f"{reported or 'not given'!r}) without naming the failing part"
        )
    if answer.status >= 500:
        return Finding.fail(
            f"/_health answered HTTP {answer.status} with a body that is not JSON "
            f"({answer.excerpt!r}): the plugin server crashed while answering, or a proxy in "
            "front of it cannot reach it"
        )
    return Finding.warn(f"/_health answered HTTP {answer.status}: {answer.excerpt!r}")


def judge_ready(answer: HealthAnswer) -> Finding:
    if answer.ok:
        return Finding.ok("ready to consume events")
    if answer.status == 404:
        return Finding.ok("no /_ready (an older plugin server)")
    if answer.status >= 500:
        return Finding.fail(f"not ready (/_ready answered HTTP {answer.status}): its Kafka consumer is not consuming")
    return Finding.warn(f"/_ready answered HTTP {answer.status}: {answer.excerpt!r}")


def _row(answer: HealthAnswer) -> list:
    reported = answer.fields().get("status", "—") if answer.is_json else "not JSON"
    return [answer.path, answer.status, reported, answer.excerpt]
