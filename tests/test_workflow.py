"""The support workflow: the ticket summary, GitHub's comment limit, ticket names, the bundle, diff, and
the customer's container commands from the README."""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from posthog_doctor.config import load_settings
from posthog_doctor.model import SCHEMA_VERSION
from tests.conftest import run_process, target

ROOT = Path(__file__).resolve().parent.parent
EXTRA = ROOT / "tests" / "fixtures" / "extra_checks"
SCRIPTED = ["--checks-dir", str(EXTRA), "--only", "scripted"]


def summary_lines(md: str) -> list[str]:
    """The ticket summary: everything before the first folded section."""
    return md.split("<details>", 1)[0].rstrip().splitlines()


def test_summary_fits_a_ticket_and_leads_with_the_verdict(doctor):
    result = doctor(
        "run",
        *target(),
        *SCRIPTED,
        "-Oexample.a.mode=fail",
        "-Oexample.b.mode=warn",
        "-Oexample.c.mode=error",
        "--ticket",
        "GH-42",
    )
    md = (result.output / "report-GH-42.md").read_text()
    lines = summary_lines(md)
    assert len(lines) <= 15, lines
    assert lines[0] == "## ❌ posthog-doctor: FAIL · GH-42"
    assert "priority hint: **high**" in lines[2] and "category: Bug" in lines[2]
    findings = [line for line in lines if line.startswith("- ")]
    assert [re.search(r"`([^`]+)`", f).group(1) for f in findings] == ["example.a", "example.c", "example.b"]
    assert all("<br>→ " in f for f in findings if "example.c" not in f)  # each with its next step


def test_summary_lists_at_most_five_findings(doctor):
    result = doctor(
        "run",
        *target(),
        "--checks-dir",
        str(EXTRA),
        "--only",
        "example",
        *[f"-Oexample.{x}.mode=fail" for x in "abcd"],
        "--clickhouse-url",
        "clickhouse://127.0.0.1:1/x",
        "--postgres-url",
        "postgres://127.0.0.1:1/x",
        "--only",
        "clickhouse.connection",
        "--only",
        "postgres.connection",
    )
    lines = summary_lines(result.text("md"))
    findings = [line for line in lines if line.startswith("- ")]
    assert len(findings) == 6 and findings[-1] == "- …and 1 more below."


def test_markdown_stays_within_githubs_comment_limit(doctor):
    big = "y" * 400
    result = doctor(
        "run",
        *target(),
        *SCRIPTED,
        *[f"-Oexample.{x}.rows=100" for x in "abcd"],
        *[f"-Oexample.{x}.text={big}" for x in "abcd"],
        *[f"-Oexample.{x}.mode=fail" for x in "abcd"],
    )
    md = result.text("md")
    assert len(md) <= 65_536
    assert "shortened to fit a GitHub comment" in md
    json_rows = [len(e["rows"]) for c in result.report["checks"] for e in c["evidence"] if e["type"] == "table"]
    assert json_rows == [100] * 4  # the JSON keeps everything
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(md)

    class Count(HTMLParser):
        opened = closed = 0

        def handle_starttag(self, tag, attrs):
            self.opened += tag == "details"

        def handle_endtag(self, tag):
            self.closed += tag == "details"

    counter = Count()
    counter.feed(html)
    assert counter.opened == counter.closed >= 5


def test_a_small_report_keeps_full_detail(doctor):
    md = doctor("run", *target(), *SCRIPTED, "-Oexample.a.rows=30", "-Oexample.a.mode=warn").text("md")
    assert "shortened" not in md
    section = md.split("example.a: Scripted A", 1)[1].split("</details>", 1)[0]
    assert "**Echo**" in section and "\n| text | \n|---|" in section  # the table's title and header, then its rows
    assert section.count("\n|  |") == 30


def test_ticket_and_customer_name_every_output(doctor):
    result = doctor("run", *target(), *SCRIPTED, "--ticket", "GH-1234", "--customer", "Acme Inc./EU")
    names = sorted(p.name for p in result.output.iterdir())
    assert names == [
        "report-GH-1234-Acme-Inc.-EU.html",
        "report-GH-1234-Acme-Inc.-EU.json",
        "report-GH-1234-Acme-Inc.-EU.md",
    ]
    for path in result.output.iterdir():
        text = path.read_text()
        assert "GH-1234" in text and "Acme Inc./EU" in text
    assert "GH-1234 · Acme Inc./EU" in result.stdout


def test_bundle_has_three_reports_and_a_truthful_manifest(doctor):
    result = doctor(
        "run", *target(), *SCRIPTED, "-Oexample.b.mode=hang", "--ticket", "T-9", "--format", "json", "--timeout", "2"
    )
    bundles = list(result.output.glob("*.tar.gz"))
    assert not bundles  # only with --bundle
    result = doctor(
        "run",
        *target(),
        *SCRIPTED,
        "-Oexample.b.mode=hang",
        "--ticket",
        "T-9",
        "--format",
        "json",
        "--timeout",
        "2",
        "--bundle",
    )
    bundles = list(result.output.glob("posthog-doctor-T-9-*.tar.gz"))
    assert len(bundles) == 1 and re.fullmatch(r"posthog-doctor-T-9-\d{8}T\d{6}Z\.tar\.gz", bundles[0].name)
    with tarfile.open(bundles[0]) as tar:
        members = {Path(m.name).name: tar.extractfile(m).read() for m in tar.getmembers()}
    assert sorted(members) == ["manifest.json", "report-T-9.html", "report-T-9.json", "report-T-9.md"]
    manifest = json.loads(members["manifest.json"])
    assert manifest["tool"]["name"] == "posthog-doctor" and manifest["schema_version"] == SCHEMA_VERSION
    for entry in manifest["files"]:
        assert hashlib.sha256(members[entry["name"]]).hexdigest() == entry["sha256"]
        assert entry["bytes"] == len(members[entry["name"]])
    by_id = {c["id"]: c for c in manifest["checks"]}
    assert by_id["example.b"]["timed_out"] is True and by_id["example.b"]["status"] == "error"
    assert by_id["example.a"] == {
        "id": "example.a",
        "status": "ok",
        "duration_ms": by_id["example.a"]["duration_ms"],
        "timed_out": False,
        "partial": False,
    }
    assert manifest["redaction"]["enabled"] is True


def test_print_sends_the_report_to_stdout(tmp_path):
    done = run_process("run", *target(), *SCRIPTED, "--quiet", "--print", "md", "--output", str(tmp_path / "o"))
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout == (tmp_path / "o" / "report.md").read_text()


def test_diff_lists_exactly_what_changed(doctor, tmp_path):
    before = doctor(
        "run",
        *target(),
        *SCRIPTED,
        "-Oexample.a.mode=fail",
        "-Oexample.b.mode=warn",
        "-Oexample.c.mode=fail",
        "-Oexample.a.metric=0.35",
        "-Oexample.d.metric=12",
        output=tmp_path / "before",
    )
    after = doctor(
        "run",
        *target(),
        *SCRIPTED,
        "-Oexample.c.mode=fail",
        "-Oexample.d.mode=warn",
        "-Oexample.a.metric=0.01",
        "-Oexample.d.metric=3",
        output=tmp_path / "after",
    )
    assert before.code == 2 and after.code == 2
    done = run_process(
        "diff", str(tmp_path / "before" / "report.json"), str(tmp_path / "after" / "report.json"), "--format", "json"
    )
    assert done.returncode == 0, done.stderr
    diff = json.loads(done.stdout)

    def ids(key: str) -> list[tuple]:
        return [(c["id"], c["old"], c["new"]) for c in diff[key]]

    assert ids("fixed") == [("example.a", "fail", "ok"), ("example.b", "warn", "ok")]
    assert ids("new_problems") == [("example.d", "ok", "warn")]
    assert ids("still_failing") == [("example.c", "fail", "fail")]
    moves = {(m["check"], m["metric"]): (m["old"], m["new"], round(m["change"], 2)) for m in diff["metrics"]}
    assert moves[("example.a", "figure")] == (0.35, 0.01, -0.34)
    assert moves[("example.d", "figure")] == (12.0, 3.0, -9.0)
    md = run_process("diff", str(tmp_path / "before" / "report.json"), str(tmp_path / "after" / "report.json")).stdout
    assert "**✅ Fixed (2)**" in md and "**🆕 New problems (1)**" in md and "**❌ Still failing (1)**" in md
    assert "| `example.a` | figure | 0.35 | 0.01 | -0.34 |" in md


def test_diff_refuses_reports_of_another_major_schema(doctor, tmp_path):
    result = doctor("run", *target(), *SCRIPTED)
    newer = result.report
    newer["schema_version"] = "2.0.0"
    path = tmp_path / "newer.json"
    path.write_text(json.dumps(newer))
    done = run_process("diff", str(result.output / "report.json"), str(path))
    assert done.returncode == 4 and "schema 2.0.0 is not readable" in done.stderr


# --- the customer's container, as the README documents it ---------------------------------------


def readme_block(marker: str) -> str:
    """The first shell block of the README that contains `marker`."""
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    return next(b for b in blocks if marker in b)


def env_file(lines: list[str], grep_pattern: str) -> dict[str, str]:
    """What `grep -E PATTERN > doctor.env` keeps, read back the way `docker run --env-file` reads it."""
    kept = [line for line in lines if re.search(grep_pattern, line)]
    return dict(line.split("=", 1) for line in kept)


def hobby_web_env(clickhouse_server, postgres_server, redis_server) -> list[str]:
    """`docker exec <web> env` on today's hobby install (docker-compose.base.yml and .env.services @ 728597e, whose
    REDIS_URL is redis7), with this test's servers as targets."""
    ch_host, ch_port = clickhouse_server.url.split("@")[1].split("/")[0].split(":")
    return [
        "PATH=/usr/local/bin:/usr/bin",
        "HOSTNAME=3f2a1b",
        "SECRET_KEY=should-not-be-kept",
        f"DATABASE_URL={postgres_server.url}",
        f"REDIS_URL={redis_server.url}",
        f"CLICKHOUSE_HOST={ch_host}",
        "CLICKHOUSE_DATABASE=posthog",
        "CLICKHOUSE_SECURE=false",
        "CLICKHOUSE_VERIFY=false",
        "CLICKHOUSE_USER=doctor",
        f"CLICKHOUSE_PASSWORD={clickhouse_server.url.split(':')[2].split('@')[0]}",
        f"CLICKHOUSE_TCP_PORT={ch_port}",
        "CLICKHOUSE_API_USER=api",
        "SITE_URL=https://posthog.example.com",
        "KAFKA_HOSTS=kafka:9092",
        "CDP_API_URL=http://plugins:6738",
    ]


def test_hobby_env_file_command_keeps_what_the_doctor_reads(clickhouse_server, postgres_server, redis_server, tmp_path):
    pattern = re.search(r"grep -E '([^']+)'", readme_block("docker exec")).group(1)
    env = env_file(hobby_web_env(clickhouse_server, postgres_server, redis_server), pattern)
    assert "PATH" not in env and "SECRET_KEY" not in env and "SITE_URL" not in env and "KAFKA_HOSTS" not in env
    assert env["REDIS_URL"] == redis_server.url  # the Redis PostHog really uses (redis7 on today's hobby)
    # The image's defaults: the entrypoint is `posthog-doctor run` and reports go to /report.
    out = tmp_path / "report"
    env.update(
        POSTHOG_DOCTOR_OUTPUT=str(out),
        POSTHOG_DOCTOR_POSTHOG_URL="off",
        POSTHOG_DOCTOR_PLUGIN_SERVER_URL="off",
        POSTHOG_DOCTOR_KAFKA_URL="off",  # the recipe finds kafka:9092 by its service name: no such broker here
    )
    done = run_process("run", "--only", "connection", env=env, cwd=tmp_path)
    report = json.loads((out / "report.json").read_text())
    statuses = {c["id"]: c["status"] for c in report["checks"]}
    assert statuses == {
        "clickhouse.connection": "ok",
        "postgres.connection": "ok",
        "redis.connection": "ok",
        "posthog.connection": "skipped",
        "plugin_server.connection": "skipped",
        "kafka.connection": "skipped",
    }, done.stderr
    assert report["target"]["component_sources"]["postgres"] == "env:DATABASE_URL"
    assert report["target"]["component_sources"]["clickhouse"].startswith("env:CLICKHOUSE_HOST")


def test_hobby_recipe_finds_the_network_from_any_folder():
    """Audit row 46: docker compose names the network after the install folder, so `posthog_default` is usually
    wrong (bin/deploy-hobby runs compose from the folder it was started in). The recipe joins the network of
    PostHog's web container instead, found by compose's own service label, and reads that container's env."""
    block = readme_block("docker exec")
    lookup = "WEB=$(docker ps -q --filter label=com.docker.compose.service=web | head -n 1)"
    assert block.splitlines()[0].startswith(lookup)
    assert 'docker exec "$WEB" env | grep -E' in block and '--network "container:$WEB"' in block
    assert "docker compose" not in block.split("#")[0] and "cd " not in block  # nothing ties it to a folder
    hero = next(line for line in ROOT.joinpath("README.md").read_text().splitlines() if "--ticket GH-1234" in line)
    assert '--network "container:$WEB"' in hero and "--env-file doctor.env" in hero
    for text in (ROOT / "README.md").read_text(), (ROOT / "Dockerfile").read_text():
        assert "--network posthog_default" not in text


def test_the_readme_points_at_no_image_or_repository_that_does_not_exist():
    readme = (ROOT / "README.md").read_text()
    assert "github.com/PostHog/posthog-doctor" not in readme and "ghcr.io" not in readme
    builds = re.findall(r"docker build ([^`\n]+)", readme)
    assert builds and all(b.strip() == "-t posthog-doctor ." for b in builds), builds
    assert "no image is published yet" in " ".join(readme.split())
    # Every image a command runs is the one built here, or a registry the reader names themselves.
    images = re.findall(r"(?:--image=|\) )(\S*posthog-doctor)\b", readme)
    assert set(images) <= {"posthog-doctor", "YOUR_REGISTRY/posthog-doctor"}, images


def test_helm_env_listing_command_keeps_what_the_doctor_reads():
    block = readme_block("kubectl")
    pattern = re.search(r"grep -E '([^']+)'", block).group(1)
    listing = [  # `kubectl set env deployment/posthog-web --list --resolve` on a chart install
        "# deployments/posthog-web, container posthog-web",
        "SENTRY_DSN=",
        "SITE_URL=https://posthog.example.com",
        "CLICKHOUSE_DATABASE=posthog",
        "CLICKHOUSE_HOST=clickhouse-posthog",
        "CLICKHOUSE_USER=admin",
        "CLICKHOUSE_PASSWORD=a1f31e03-c88e-4ca6-a2df-ad49183d15d9",
        "CLICKHOUSE_SECURE=false",
        "CLICKHOUSE_VERIFY=false",
        "POSTHOG_POSTGRES_HOST=posthog-pgbouncer",
        "POSTHOG_POSTGRES_PORT=6543",
        "POSTHOG_DB_USER=postgres",
        "POSTHOG_DB_NAME=posthog",
        "POSTHOG_DB_PASSWORD=from-the-secret-123",
        "USING_PGBOUNCER=true",
        "POSTHOG_REDIS_HOST=posthog-posthog-redis-master",
        "POSTHOG_REDIS_PORT=6379",
        "POSTHOG_POSTGRES_SSL_MODE=require",
    ]
    env = env_file(listing, pattern)
    for extra in re.findall(r"--env=(POSTHOG_DOCTOR_\w+=\S+)", block):
        key, value = extra.split("=", 1)
        env[key] = value
    s = load_settings({}, env)
    assert (
        s.endpoints["clickhouse"].url()
        == "clickhouse://admin:***@clickhouse-posthog:9000/posthog?secure=false&verify=false"
    )
    assert s.endpoints["postgres"].url() == (
        "postgres://postgres:***@posthog-pgbouncer:6543/posthog?sslmode=require&pgbouncer=true"
    )
    assert s.endpoints["postgres"].password == "from-the-secret-123"
    assert s.endpoints["redis"].url() == "redis://posthog-posthog-redis-master:6379"
    assert s.endpoints["posthog_api"].url() == "http://posthog-web:8000" and s.endpoints["plugin_server"] is None
    assert s.endpoints["kafka"].url() == "kafka://posthog-posthog-kafka:9092"
    assert "-- run --quiet --print md" in block  # the report arrives on stdout, nothing else does


@pytest.mark.parametrize("marker", ["docker run", "kubectl -n posthog run"])
def test_documented_commands_use_flags_that_exist(marker):
    block = readme_block(marker)
    from posthog_doctor.cli import build_parser

    run_flags = {
        opt
        for action in build_parser()._subparsers._group_actions[0].choices["run"]._actions
        for opt in action.option_strings
    }
    used = re.findall(r"(?<=\s)(--[a-z][a-z-]+)", block.split("posthog-doctor", 1)[-1])
    docker_flags = {"--rm", "--network", "--env-file", "--user", "--env", "--restart", "--image"}
    assert {f for f in used if f not in docker_flags} <= run_flags
