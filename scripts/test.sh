#!/usr/bin/env bash
# The whole test suite, on the database DATABASE_URL names (the embedded SQLite database when unset).
# Creates the virtualenv on first use. Extra arguments go to pytest (e.g. `scripts/test.sh tests/bindings`).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
    python3.11 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --disable-pip-version-check -r requirements-dev.txt
echo "== tests on ${DATABASE_URL:-SQLite (db.sqlite3)}"
# Two workers: the CI machine has two cores. pytest exits non-zero when a test fails or none ran.
exec "$VENV/bin/pytest" -n "${PYTEST_WORKERS:-2}" "$@"
