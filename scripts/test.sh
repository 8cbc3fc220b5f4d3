#!/usr/bin/env bash
# Run the whole test suite on a fresh Debian machine: install the real servers the tests start
# (ClickHouse, Postgres, Redis, ZooKeeper from Debian's packages) and Chromium (the HTML report is checked
# in a real browser) when missing, make a virtual environment with the project and its test extras,
# check lint, format and types, then run pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
missing=()
command -v clickhouse-server >/dev/null 2>&1 || [ -x /usr/sbin/clickhouse-server ] || missing+=(clickhouse-server clickhouse-client)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)  # certificates for the TLS fault tests
[ -f /usr/share/java/zookeeper.jar ] || missing+=(zookeeper)  # a real ZooKeeper (run from its jar, with Java)
command -v chromium >/dev/null 2>&1 || missing+=(chromium fonts-liberation)  # the HTML report, checked in a real browser
python3 -c "import ensurepip, venv" >/dev/null 2>&1 || missing+=(python3-venv)
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"

echo "lint, format and types"
.venv/bin/ruff check --quiet .
.venv/bin/ruff format --check --quiet .
.venv/bin/mypy --no-error-summary posthog_doctor checks
# The suite mostly waits (servers, deadlines, timeouts): test files run on several workers, a file whole on one
# (tests/conftest.py starts the longest first). PYTEST_WORKERS=0 runs it in one process. The doctor runs as a process in many
# tests: let Python keep its compiled modules instead of compiling every module at every start.
unset PYTHONDONTWRITEBYTECODE
workers="${PYTEST_WORKERS:-3}"
parallel=()
[ "$workers" = 0 ] || parallel=(-n "$workers" --dist loadfile)
exec .venv/bin/python -m pytest "${parallel[@]}" "$@"
