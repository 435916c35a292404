#!/usr/bin/env bash
# One command on a fresh machine: install, migrate the embedded SQLite database, load the demo data
# (a few hundred people, relationships, settlements) and serve the admin and the API.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
    python3.11 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --disable-pip-version-check -r requirements.txt
"$VENV/bin/python" manage.py migrate --noinput
"$VENV/bin/python" manage.py collectstatic --noinput -v 0
# Idempotent: a second run keeps the data and prints the same logins (and fresh API tokens).
"$VENV/bin/python" manage.py load_demo_data
ADDRESS=${ADDRESS:-127.0.0.1:8000}
echo "管理后台 http://$ADDRESS/admin/   接口文档 http://$ADDRESS/api/v1/docs"
exec "$VENV/bin/python" manage.py runserver "$ADDRESS"
