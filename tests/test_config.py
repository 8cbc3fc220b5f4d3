"""Configuration: precedence of sources, PostHog's own variables, profiles, and clear errors."""

from __future__ import annotations

import pytest

from posthog_doctor.config import ConfigError, load_settings
from posthog_doctor.endpoints import EndpointError, parse_endpoint


def settings(flags=None, env=None, tmp_path=None, yaml_text=None):
    flags = dict(flags or {})
    if yaml_text is not None:
        path = tmp_path / "doctor.yaml"
        path.write_text(yaml_text)
        flags.setdefault("config", str(path))
    return load_settings(flags, env or {})


def test_defaults_follow_the_hobby_topology():
    s = settings()
    assert s.endpoints["clickhouse"].url() == "clickhouse://default@clickhouse:9000/posthog"
    assert s.endpoints["postgres"].url() == "postgres://posthog:***@db:5432/posthog"
    assert s.endpoints["redis"].url() == "redis://redis:6379/0"
    assert s.endpoints["posthog_api"].url() == "http://web:8000"
    assert s.endpoints["plugin_server"].url() == "http://plugins:6738"
    assert all(ep.source == "default" and "localhost" in ep.fallback_hosts for ep in s.endpoints.values())
    assert s.timeout == 60 and s.concurrency == 4 and s.formats == ["json", "md", "html"] and s.redact


def test_precedence_flag_over_env_over_file_over_default(tmp_path):
    yaml_text = "clickhouse_url: clickhouse://file-host:9000/posthog\ntimeout: 30\n"
    from_file = settings(tmp_path=tmp_path, yaml_text=yaml_text)
    assert from_file.endpoints["clickhouse"].host == "file-host" and from_file.timeout == 30
    assert from_file.endpoints["clickhouse"].fallback_hosts == ()  # only defaults fall back to localhost

    env = {"POSTHOG_DOCTOR_CLICKHOUSE_URL": "clickhouse://env-host:9000/posthog", "POSTHOG_DOCTOR_TIMEOUT": "20"}
    from_env = settings(env=env, tmp_path=tmp_path, yaml_text=yaml_text)
    assert from_env.endpoints["clickhouse"].host == "env-host" and from_env.timeout == 20

    flags = {"clickhouse_url": "clickhouse://flag-host:9000/posthog", "timeout": "10"}
    from_flag = settings(flags, env=env, tmp_path=tmp_path, yaml_text=yaml_text)
    assert from_flag.endpoints["clickhouse"].host == "flag-host" and from_flag.timeout == 10
    assert from_flag.endpoints["clickhouse"].source == "flag --clickhouse-url"


def test_doctor_variable_beats_posthogs_own_which_beats_the_file(tmp_path):
    yaml_text = "postgres_url: postgres://u@file-host/posthog\n"
    env = {"DATABASE_URL": "postgres://posthog:pw@posthog-db:5432/posthog"}
    assert settings(env=env, tmp_path=tmp_path, yaml_text=yaml_text).endpoints["postgres"].host == "posthog-db"
    env["POSTHOG_DOCTOR_POSTGRES_URL"] = "postgres://u@doctor-db/posthog"
    assert settings(env=env, tmp_path=tmp_path, yaml_text=yaml_text).endpoints["postgres"].host == "doctor-db"


def test_posthogs_clickhouse_variables_compose_a_url():
    env = {
        "CLICKHOUSE_HOST": "ch.internal",
        "CLICKHOUSE_USER": "admin",
        "CLICKHOUSE_PASSWORD": "s3cr:t/@x",
        "CLICKHOUSE_DATABASE": "posthog",
        "CLICKHOUSE_SECURE": "true",
        "CLICKHOUSE_VERIFY": "false",
    }
    ep = settings(env=env).endpoints["clickhouse"]
    assert (ep.host, ep.user, ep.password, ep.database) == ("ch.internal", "admin", "s3cr:t/@x", "posthog")
    assert ep.secure and ep.port == 9440 and ep.param("verify") == "false"
    assert "s3cr" not in ep.url() and ep.source.startswith("env:CLICKHOUSE_HOST")


def test_helm_variables_compose_postgres_and_redis_urls():
    env = {
        "POSTHOG_POSTGRES_HOST": "posthog-pgbouncer",
        "POSTHOG_POSTGRES_PORT": "6543",
        "POSTHOG_DB_USER": "postgres",
        "POSTHOG_DB_PASSWORD": "pw-123456",
        "POSTHOG_DB_NAME": "posthog",
        "POSTHOG_REDIS_HOST": "posthog-posthog-redis-master",
        "POSTHOG_REDIS_PORT": "6379",
    }
    s = settings(env=env)
    assert (s.endpoints["postgres"].host, s.endpoints["postgres"].port) == ("posthog-pgbouncer", 6543)
    assert s.endpoints["postgres"].password == "pw-123456"
    assert s.endpoints["redis"].host == "posthog-posthog-redis-master"


def test_site_url_and_cdp_api_url_name_the_http_components():
    s = settings(env={"SITE_URL": "https://posthog.example.com", "CDP_API_URL": "http://plugins:6738"})
    assert s.endpoints["posthog_api"].url() == "https://posthog.example.com:443"
    assert s.endpoints["plugin_server"].source == "env:CDP_API_URL"


def test_api_key_from_environment_is_kept_out_of_the_summary():
    s = settings(env={"POSTHOG_PERSONAL_API_KEY": "phx_abcdefghijklmnopqrstuvwxyz012345"})
    assert s.api_key.startswith("phx_") and s.api_key in s.secrets
    assert "phx_" not in str(s.target_summary()) and s.target_summary()["api_key_given"] is True


def test_off_disables_a_component():
    s = settings({"redis_url": "off"})
    assert s.endpoints["redis"] is None
    assert s.target_summary()["components"]["redis"] == "disabled"


def test_profiles_overlay_the_top_level(tmp_path):
    yaml_text = """
timeout: 30
checks: {host.resources: {min_memory_gb: 1}}
profiles:
  acme:
    clickhouse_url: clickhouse://acme-ch:9000/posthog
    checks: {host.resources: {recommended_memory_gb: 2}}
  other: {}
"""
    s = settings({"profile": "acme"}, tmp_path=tmp_path, yaml_text=yaml_text)
    assert s.endpoints["clickhouse"].host == "acme-ch" and s.timeout == 30 and s.profile == "acme"
    assert s.check_options == {"host.resources": {"recommended_memory_gb": 2}}  # the profile's checks win per check
    with pytest.raises(ConfigError, match="profile 'nope' not found .*profiles: acme, other"):
        settings({"profile": "nope"}, tmp_path=tmp_path, yaml_text=yaml_text)


def test_profile_without_a_config_file_is_an_error():
    with pytest.raises(ConfigError, match="needs a config file"):
        settings({"profile": "acme"})


@pytest.mark.parametrize(
    "yaml_text, message",
    [
        ("clikhouse_url: x\n", "unknown key 'clikhouse_url' (did you mean 'clickhouse_url'?)"),
        ("timeout: soon\n", "'timeout' must be a number"),
        ("redact: maybe\n", "'redact' must be true or false"),
        ("- a\n- b\n", "must hold a mapping of settings, not list"),
        ("a: [unclosed\n", "is not valid YAML at line"),
        ("base: &x {timeout: 1}\nother: *x\n", "aliases"),
        ("profiles: {p: {bogus: 1}}\n", "unknown key 'bogus'"),
        ("checks: [1, 2]\n", "'checks' must be a mapping"),
        ("clickhouse_url: 'http://wrong-scheme'\n", "does not start with clickhouse://"),
    ],
)
def test_bad_config_files_give_one_line_errors(tmp_path, yaml_text, message):
    with pytest.raises(ConfigError) as err:
        settings({"profile": "p"} if "profiles" in yaml_text else {}, tmp_path=tmp_path, yaml_text=yaml_text)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_unreadable_and_non_utf8_config_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file .*No such file"):
        settings({"config": str(tmp_path / "missing.yaml")})
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"timeout: 5 # caf\xe9\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        settings({"config": str(bad)})


@pytest.mark.parametrize(
    "flags, message",
    [
        ({"timeout": "0"}, "timeout must be between"),
        ({"timeout": "abc"}, "timeout must be a number"),
        ({"concurrency": "2.5"}, "concurrency must be a whole number"),
        ({"format": ["pdf"]}, "unknown format 'pdf'"),
        ({"options": ["no-equals-sign"]}, "--set expects CHECK_ID.OPTION=VALUE"),
        ({"postgres_url": "postgres://user:hunter2secret@host:notaport/db"}, "bad URL for postgres"),
    ],
)
def test_bad_flags_give_one_line_errors_without_secrets(flags, message):
    with pytest.raises(ConfigError) as err:
        settings(flags)
    assert message in str(err.value)
    assert "hunter2secret" not in str(err.value)


def test_formats_accept_all_lists_and_commas():
    assert settings({"format": ["md,json"]}).formats == ["md", "json"]
    assert settings({"format": ["all"]}).formats == ["json", "md", "html"]


def test_endpoint_parsing_and_redaction():
    ep = parse_endpoint("clickhouse", "clickhouse", "clickhouse://u:p%40ss@[::1]/db?secure=1&password=x")
    assert (ep.host, ep.port, ep.password, ep.database) == ("::1", 9440, "p@ss", "db")
    assert ep.url() == "clickhouse://u:***@[::1]:9440/db?secure=1&password=***"
    assert set(ep.secrets) == {"p@ss", "x"}
    assert "p@ss" not in repr(ep) and "p@ss" not in str(ep)
    chdb = parse_endpoint("clickhouse", "clickhouse", "chdb:///tmp/data?database=posthog_x")
    assert chdb.param("path") == "/tmp/data" and chdb.database == "posthog_x"
    for bad in ("clickhouse://", "redis://host/notanumber", "postgres://h/a/b", "ftp://x"):
        kind = bad.split(":")[0] if bad.split(":")[0] in ("clickhouse", "redis", "postgres") else "clickhouse"
        with pytest.raises(EndpointError):
            parse_endpoint(kind, kind, bad)


# --- PostHog's own defaults for the variables its env leaves out (audit rows 24, 25, 42) -------------------------


def test_posthogs_clickhouse_defaults_apply_when_its_env_omits_them():
    """posthog/settings/data_stores.py: CLICKHOUSE_DATABASE defaults to "default", CLICKHOUSE_SECURE to true
    outside DEBUG/TEST, CLICKHOUSE_HOST to "localhost"."""
    ep = settings(env={"CLICKHOUSE_HOST": "ch.internal", "CLICKHOUSE_PASSWORD": "pw"}).endpoints["clickhouse"]
    assert (ep.host, ep.database, ep.secure, ep.port) == ("ch.internal", "default", True, 9440)
    assert ep.source == (
        "env:CLICKHOUSE_HOST/CLICKHOUSE_PASSWORD (PostHog's defaults: CLICKHOUSE_SECURE=true, "
        "CLICKHOUSE_DATABASE=default)"
    )
    no_host = settings(env={"CLICKHOUSE_USER": "app"}).endpoints["clickhouse"]
    assert no_host.host == "localhost" and no_host.fallback_hosts == ()
    development = settings(env={"CLICKHOUSE_HOST": "ch", "DEBUG": "1"}).endpoints["clickhouse"]
    assert (development.secure, development.port) == (False, 9000)


def test_hobby_and_helm_set_their_clickhouse_variables_so_nothing_changes_for_them():
    hobby = {"CLICKHOUSE_HOST": "clickhouse", "CLICKHOUSE_DATABASE": "posthog", "CLICKHOUSE_SECURE": "false"}
    ep = settings(env=hobby).endpoints["clickhouse"]
    assert ep.url() == "clickhouse://default@clickhouse:9000/posthog?secure=false"
    assert "PostHog's defaults" not in ep.source
    # Without any PostHog variable the doctor's own default is still the hobby install's.
    assert settings().endpoints["clickhouse"].url() == "clickhouse://default@clickhouse:9000/posthog"


def test_posthogs_postgres_ssl_variables_become_libpq_parameters():
    env = {
        "POSTHOG_DB_NAME": "posthog",
        "POSTHOG_DB_USER": "posthog",
        "POSTHOG_POSTGRES_HOST": "pg.example.com",
        "POSTHOG_POSTGRES_SSL_MODE": "verify-full",
        "POSTHOG_POSTGRES_CLI_SSL_CA": "/certs/ca.pem",
        "POSTHOG_POSTGRES_CLI_SSL_CRT": "/certs/client.crt",
        "POSTHOG_POSTGRES_CLI_SSL_KEY": "/certs/client.key",
    }
    ep = settings(env=env).endpoints["postgres"]
    assert [(k, ep.param(k)) for k in ("sslmode", "sslrootcert", "sslcert", "sslkey")] == [
        ("sslmode", "verify-full"),
        ("sslrootcert", "/certs/ca.pem"),
        ("sslcert", "/certs/client.crt"),
        ("sslkey", "/certs/client.key"),
    ]
    from posthog_doctor.connectors.postgres import connect_kwargs

    kwargs = connect_kwargs(ep, 5.0)
    assert (kwargs["sslmode"], kwargs["sslrootcert"], kwargs["sslcert"], kwargs["sslkey"]) == (
        "verify-full",
        "/certs/ca.pem",
        "/certs/client.crt",
        "/certs/client.key",
    )
    # DATABASE_URL wins and brings its own sslmode; PostHog ignores the SSL variables then, and so does the doctor.
    url_env = dict(env, DATABASE_URL="postgres://u:p@db.example.com:5432/posthog?sslmode=require")
    url_ep = settings(env=url_env).endpoints["postgres"]
    assert connect_kwargs(url_ep, 5.0)["sslmode"] == "require" and not url_ep.param("sslrootcert")


def test_using_pgbouncer_travels_with_the_postgres_url():
    helm = {"POSTHOG_POSTGRES_HOST": "posthog-pgbouncer", "POSTHOG_POSTGRES_PORT": "6543", "POSTHOG_DB_NAME": "posthog"}
    assert settings(env=helm).endpoints["postgres"].param("pgbouncer") == ""
    pooled = settings(env=dict(helm, USING_PGBOUNCER="true")).endpoints["postgres"]
    assert pooled.param("pgbouncer") == "true" and pooled.source.endswith("USING_PGBOUNCER")
    from posthog_doctor.connectors.postgres import connect_kwargs

    assert "pgbouncer" not in connect_kwargs(pooled, 5.0)  # a doctor-side marker, never sent to libpq
    url = settings(env={"DATABASE_URL": "postgres://u@pgb:6543/posthog", "USING_PGBOUNCER": "1"}).endpoints["postgres"]
    assert url.param("pgbouncer") == "true"
