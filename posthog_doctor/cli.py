"""The command line: run, checks, explain, render.

Every failure the user can cause (a bad flag, an unreadable file, a bad URL) ends with one line on
stderr and exit code 4; nothing prints a traceback unless POSTHOG_DOCTOR_DEBUG=1.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from . import __version__
from .model import EXIT_INCOMPLETE, EXIT_USAGE

HELP_EPILOG = """exit codes: 0 all ok, 1 warnings, 2 at least one failure, 3 some checks could not run
(none failed), 4 usage or configuration error.
docs: https://github.com/PostHog/posthog-doctor#readme"""


class UsageError(Exception):
    """Raised instead of argparse's own exit, so usage errors share exit code 4."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse would exit 2, which we reserve for failures
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="posthog-doctor",
        description="Diagnose a self-hosted PostHog deployment.",
        epilog=HELP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"posthog-doctor {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser(
        "run",
        help="run the checks and write the reports",
        epilog=HELP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _target_options(run)
    out = run.add_argument_group("output")
    out.add_argument(
        "--format",
        action="append",
        metavar="FMT",
        help="json, md, html or all (default all; repeatable or comma-separated)",
    )
    out.add_argument("--output", metavar="DIR", help="folder for the reports (default ./posthog-doctor-report)")
    out.add_argument("--quiet", action="store_true", help="no progress and no summary on the terminal")
    out.add_argument(
        "--no-redact",
        action="store_true",
        help="keep secrets and personal data in the reports (only for your own debug instance)",
    )
    out.add_argument("--ticket", metavar="REF", help="ticket reference for the reports' headers and file names")
    out.add_argument("--customer", metavar="NAME", help="customer name for the reports' headers and file names")
    out.add_argument(
        "--bundle",
        action="store_true",
        help="also write posthog-doctor-<ticket or host>-<time>.tar.gz: the three reports and a manifest",
    )
    out.add_argument(
        "--print",
        dest="print_format",
        choices=("md", "json", "html"),
        help="also print this report on standard output (with --quiet, nothing else is printed)",
    )

    explain = sub.add_parser("explain", help="dry run: show the plan and every query, connect to nothing")
    _target_options(explain)
    explain.add_argument("--format", dest="explain_format", choices=("text", "json"), default="text")

    checks = sub.add_parser("checks", help="list every available check")
    checks.add_argument("--checks-dir", action="append", dest="checks_dirs", metavar="DIR", default=[])
    checks.add_argument("--format", choices=("text", "json"), default="text")

    diff = sub.add_parser("diff", help="compare two reports: fixed, new, still failing, key figures (offline)")
    diff.add_argument("old", metavar="OLD.json")
    diff.add_argument("new", metavar="NEW.json")
    diff.add_argument("--format", choices=("md", "json"), default="md")
    diff.add_argument("--output", metavar="FILE", help="write here instead of standard output")

    status = sub.add_parser(
        "parse-status",
        help="read a saved System Status page (its JSON or pasted text) offline",
        epilog="exit codes: 0 healthy, 1 warnings, 2 failures, 3 no row could be read, 4 unreadable file",
    )
    status.add_argument(
        "file", metavar="FILE", help="the JSON of /api/instance_status, or the page's text copied from a browser"
    )
    status.add_argument("--format", choices=("md", "json"), default="md")

    render = sub.add_parser("render", help="render a saved report.json as Markdown or HTML (offline)")
    render.add_argument("report", metavar="REPORT.json")
    render.add_argument("--format", choices=("md", "html", "json"), default="md")
    render.add_argument("--output", metavar="FILE", help="write here instead of standard output")
    return parser


def _target_options(p: argparse.ArgumentParser) -> None:
    from .topology import URL_COMPONENTS

    cfg = p.add_argument_group("configuration (flags > environment > config file > defaults)")
    cfg.add_argument("--config", metavar="FILE", help="YAML config file (env POSTHOG_DOCTOR_CONFIG)")
    cfg.add_argument("--profile", metavar="NAME", help="a named profile of the config file")
    for comp in URL_COMPONENTS:
        cfg.add_argument(
            comp.flag,
            dest=comp.config_key,
            metavar="URL",
            help=f"{comp.label} URL, e.g. {comp.default_url} ('off' to skip it)",
        )
    cfg.add_argument("--api-key", metavar="KEY", help="PostHog personal API key (better: env POSTHOG_PERSONAL_API_KEY)")
    cfg.add_argument(
        "--project-token",
        metavar="TOKEN",
        help="a project API key (phc_...) to check, without sending an event (env POSTHOG_DOCTOR_PROJECT_TOKEN)",
    )
    cfg.add_argument("--status-file", metavar="FILE", help="a saved System Status page (JSON or copied text)")
    sel = p.add_argument_group("checks")
    sel.add_argument("--only", action="append", metavar="ID|PREFIX|TAG", help="run only these checks (repeatable)")
    sel.add_argument("--skip", action="append", metavar="ID|PREFIX|TAG", help="leave these checks out (repeatable)")
    sel.add_argument(
        "--checks-dir",
        action="append",
        dest="checks_dirs",
        metavar="DIR",
        default=[],
        help="also load checks from this folder (repeatable)",
    )
    sel.add_argument(
        "--set",
        "-O",
        "--option",
        action="append",
        dest="options",
        metavar="CHECK.OPTION=VALUE",
        help="set a check option, e.g. clickhouse.disk.warn_days=14 (repeatable; "
        "'posthog-doctor explain' lists every option)",
    )
    sel.add_argument(
        "--include-payloads", action="store_true", help="keep customer payload values in examples (masked by default)"
    )
    lim = p.add_argument_group("limits")
    lim.add_argument("--timeout", type=str, metavar="SECONDS", help="deadline for the whole run (default 60)")
    lim.add_argument("--concurrency", type=str, metavar="N", help="checks running at once (default 4)")


def main(argv: Sequence[str] | None = None) -> int:
    # Libraries log connection details at WARNING; the doctor reports problems itself.
    logging.getLogger().addHandler(logging.NullHandler())
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--version"]:  # the fast path: no parser, no checks imported
        print(f"posthog-doctor {__version__}")
        return 0
    try:
        return _dispatch(argv)
    except UsageError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except Exception as exc:
        from .config import ConfigError
        from .model import ReportFormatError
        from .output import OutputError

        if isinstance(exc, (ConfigError, ReportFormatError)):
            _error(str(exc))
            return EXIT_USAGE
        if isinstance(exc, OutputError):
            _error(str(exc))
            return EXIT_INCOMPLETE
        if os.environ.get("POSTHOG_DOCTOR_DEBUG"):
            raise
        _error(
            f"internal error: {type(exc).__name__}: {' '.join(str(exc).split())[:300]} "
            "(set POSTHOG_DOCTOR_DEBUG=1 for details)"
        )
        return EXIT_INCOMPLETE


def _error(message: str) -> None:
    print(f"posthog-doctor: error: {message}", file=sys.stderr)


def _dispatch(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    return {
        "run": cmd_run,
        "explain": cmd_explain,
        "checks": cmd_checks,
        "render": cmd_render,
        "diff": cmd_diff,
        "parse-status": cmd_parse_status,
    }[args.command](args)


def _prepare(args: argparse.Namespace):
    from .config import load_settings
    from .plan import make_plan
    from .registry import discover, resolve_options

    settings = load_settings(vars(args))
    registry = discover(settings.checks_dirs)
    options = resolve_options(registry, settings.check_options)
    return settings, registry, options, make_plan(registry, settings)


def cmd_run(args: argparse.Namespace) -> int:
    from .bundle import BUNDLE_FORMATS, write_bundle
    from .diagnosis import diagnose_safely
    from .output import redact, render_all, report_stem, write_reports
    from .progress import TerminalProgress
    from .render import render
    from .runner import run_plan

    settings, registry, options, plan = _prepare(args)
    needed = list(
        dict.fromkeys(
            settings.formats
            + (list(BUNDLE_FORMATS) if args.bundle else [])
            + ([args.print_format] if args.print_format else [])
        )
    )
    # The checks mostly wait on their servers: meanwhile, compile the templates and read the diagnosis rules.
    warming = threading.Thread(
        target=_warm_outputs, args=(needed + ([] if args.quiet else ["text"]),), daemon=True, name="warm-outputs"
    )
    warming.start()
    progress = TerminalProgress(len(plan.entries) + len(registry.problems), quiet=args.quiet)
    try:
        report = run_plan(plan, settings, options, problems=registry.problems, progress=progress.callbacks())
    finally:
        progress.close()
    warming.join()
    report.diagnosis = diagnose_safely(report.checks)
    report = redact(report, settings.secrets, settings.redact)
    rendered = render_all(report, needed, settings.secrets)
    stem = report_stem(settings.ticket, settings.customer)
    paths = write_reports({f: rendered[f] for f in settings.formats}, settings.output, stem)
    if args.bundle:
        paths.append(write_bundle(report, rendered, settings.output, stem))
    if not args.quiet:
        sys.stdout.write(render(report, "text"))
        sys.stdout.write("Reports: " + ", ".join(str(p) for p in paths) + "\n")
    if args.print_format:
        sys.stdout.write(rendered[args.print_format])
    return report.exit_code()


def _warm_outputs(formats: list[str]) -> None:
    """Work the end of a run needs, done ahead (see cmd_run). A failure here only costs time: rendering and the
    diagnosis do the same work again and report their own errors."""
    try:
        from .diagnosis import bundled_knowledge
        from .render import warm

        warm(formats)
        bundled_knowledge()
    except Exception:  # noqa: BLE001 - see the docstring
        pass


def cmd_explain(args: argparse.Namespace) -> int:
    from .connectors import own_queries
    from .topology import COMPONENTS

    settings, registry, options, plan = _prepare(args)
    data: dict[str, Any] = {
        "components": {
            name: {
                "url": ep.url() if ep else "disabled",
                "source": ep.source if ep else "",
                "fallback_hosts": list(ep.fallback_hosts) if ep else [],
            }
            for name, ep in settings.endpoints.items()
        },
        "timeout_s": settings.timeout,
        "concurrency": settings.concurrency,
        "checks": [
            {
                "id": e.check.id,
                "title": e.check.title,
                "runs": e.runs,
                "reason": e.reason,
                "needs": list(e.check.needs),
                "uses": list(e.check.uses),
                "timeout_s": e.check.timeout,
                "options": options.get(e.check.id, {}),
                "queries": [{"component": q.component, "name": q.name, "text": q.text} for q in e.check.queries],
            }
            for e in plan.entries
        ],
        "connector_queries": [
            {"component": q.component, "name": q.name, "text": q.text} for q in own_queries(plan.components)
        ],
        "deselected": plan.deselected,
        "load_problems": [{"source": p.source, "reason": p.reason} for p in registry.problems],
    }
    if args.explain_format == "json":
        print(json.dumps(data, indent=2))
        return 0
    lines = ["Plan for this configuration (dry run: nothing was contacted).", "", "Components:"]
    for name, comp in data["components"].items():
        extra = (
            f", then {', '.join(comp['fallback_hosts'])} if the host does not resolve" if comp["fallback_hosts"] else ""
        )
        lines.append(f"  {COMPONENTS[name].label:<18} {comp['url']}  ({comp['source'] or 'off'}{extra})")
    lines += ["", f"Limits: whole run {settings.timeout:g} s, {settings.concurrency} checks at a time.", ""]
    running = [c for c in data["checks"] if c["runs"]]
    lines.append(f"Checks that run ({len(running)}):")
    for c in running:
        needs = ", ".join(c["needs"] + [u + "?" for u in c["uses"]]) or "nothing"
        lines.append(f"  {c['id']}: {c['title']}  [needs {needs}; limit {c['timeout_s']:g} s]")
        for key, value in c["options"].items():
            lines.append(f"      option {key} = {value!r}")
        for q in c["queries"]:
            lines.append(f"      {q['component']} query {q['name']}:")
            lines.extend("          " + line for line in q["text"].splitlines())
    if data["connector_queries"]:
        lines += ["", "Statements the connectors send on the checks' behalf:"]
        for q in data["connector_queries"]:
            lines.append(f"  {q['component']} {q['name']}: {q['text']}")
    skipped = [c for c in data["checks"] if not c["runs"]]
    if skipped:
        lines += ["", "Skipped:"] + [f"  {c['id']}: {c['reason']}" for c in skipped]
    if plan.deselected:
        lines += ["", "Left out by --only/--skip: " + ", ".join(plan.deselected)]
    for p in registry.problems:
        lines.append(f"Could not load {p.source}: {p.reason}")
    print("\n".join(lines))
    return 0


def cmd_checks(args: argparse.Namespace) -> int:
    from .config import ConfigError
    from .registry import discover

    registry = discover([Path(p) for p in args.checks_dirs])
    rows = [
        {
            "id": c.id,
            "title": c.title,
            "tags": list(c.tags),
            "needs": list(c.needs),
            "uses": list(c.uses),
            "category": c.category,
            "origin": registry.origins[c.id],
            "description": c.describe(),
        }
        for c in registry.sorted()
    ]
    if args.format == "json":
        print(json.dumps({"checks": rows, "load_problems": [vars(p) for p in registry.problems]}, indent=2))
        return 0
    if not rows:
        raise ConfigError("no checks found")
    width = max(len(r["id"]) for r in rows)
    for r in rows:
        needs = ", ".join([*r["needs"], *(u + "?" for u in r["uses"])]) or "-"
        tags = f"  #{' #'.join(r['tags'])}" if r["tags"] else ""
        print(f"{r['id']:<{width}}  {r['title']}  [{needs}]{tags}")
    for p in registry.problems:
        print(f"could not load {p.source}: {p.reason}", file=sys.stderr)
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from .model import Report
    from .render import render

    report = Report.from_dict(load_report(Path(args.report)))
    _emit(render(report, args.format), args.output)
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from .diff import compare
    from .model import Report
    from .render import render_diff

    old = Report.from_dict(load_report(Path(args.old)))
    new = Report.from_dict(load_report(Path(args.new)))
    _emit(render_diff(compare(old, new), args.format), args.output)
    return 0


def cmd_parse_status(args: argparse.Namespace) -> int:
    """A saved System Status page, judged offline by every check that reads one, as Markdown or JSON (redacted)."""
    from .config import ConfigError, offline_settings
    from .connectors import ConnectorError, read_snapshot
    from .model import Status
    from .output import redact
    from .plan import make_plan
    from .registry import discover, resolve_options
    from .render import render
    from .runner import run_plan

    path = Path(args.file)
    try:
        read_snapshot(path)  # a clear one-line error before anything runs
    except ConnectorError as exc:
        raise ConfigError(str(exc)) from None
    registry = discover()
    settings = offline_settings(status_file=path)
    settings.only = [c.id for c in registry.sorted() if "status_snapshot" in c.components()]
    report = run_plan(make_plan(registry, settings), settings, resolve_options(registry, {}))
    report.checks = [c for c in report.checks if c.status is not Status.SKIPPED]  # needed a live component
    report = redact(report, [])  # a paste can hold secrets and personal data
    sys.stdout.write(render(report, "json" if args.format == "json" else "status"))
    return report.exit_code() if report.checks else EXIT_INCOMPLETE


def _emit(text: str, output: str | None) -> None:
    from .output import write_atomic

    if output:
        write_atomic(Path(output), text)
    else:
        sys.stdout.write(text)


def load_report(path: Path) -> Any:
    """The JSON of a saved report, or a ConfigError saying in one line why it cannot be read."""
    from .config import ConfigError

    try:
        with open(path, "rb") as fh:
            raw = fh.read(50_000_001)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > 50_000_000:
        raise ConfigError(f"{path} is larger than 50 MB: not a posthog-doctor report")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{path} is not valid JSON ({exc})") from None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
