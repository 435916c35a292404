"""api.md "Commands" exactly as the acceptance run calls them: `python manage.py ...` in a subprocess with
DATABASE_URL and MEDIA_ROOT in the environment, after `migrate`. Exit statuses and the token's line."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from tests.contract.conftest import INSTITUTIONS, REGIONS, write_csv, write_xlsx

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def manage(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cmd")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}", "MEDIA_ROOT": str(tmp / "media")}
    env.pop("DJANGO_SETTINGS_MODULE", None)

    def run(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )

    result = run("migrate", "--noinput", "-v0")
    assert result.returncode == 0, result.stderr
    run.tmp = tmp
    return run


def test_import_exit_statuses_and_token(manage):
    tmp = manage.tmp
    regions = write_csv(tmp / "regions.csv", REGIONS, encoding="utf-8-sig")
    r = manage("import_data", "regions", str(regions))
    assert r.returncode == 0 and "新增 5" in r.stdout, r.stdout + r.stderr
    bad = write_csv(tmp / "bad.csv", [["机构编码", "机构名称", "机构类型", "区划代码", "定点"],
                                      ["H001", "医院", "医疗机构", "320500", "是"],
                                      ["H002", "诊所", "医疗机构", "999999", "是"]])  # fmt: skip
    r = manage("import_data", "institutions", str(bad))
    assert r.returncode != 0
    assert "第3行" in r.stdout + r.stderr
    r = manage("create_api_client", "s1", "--role", "staff")
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip().splitlines()[-1].strip()
    assert len(token) >= 20 and " " not in token
    assert manage("create_api_client", "h2", "--role", "institution", "--institution", "NOPE").returncode != 0


@pytest.mark.parametrize(
    "args",
    [
        ["h2", "--role", "institution", "--institution", "NOPE"],
        ["h3", "--role", "institution"],
        ["x", "--role", "boss"],
        ["c", "--role", "channel", "--institution", "H001"],
    ],
)
def test_create_api_client_refusals(imp, args):
    from django.core.management import CommandError, call_command

    imp.ok("regions", REGIONS)
    imp.ok("institutions", INSTITUTIONS)
    with pytest.raises((CommandError, SystemExit)):
        call_command("create_api_client", *args, stdout=io.StringIO(), stderr=io.StringIO())


def test_token_for_each_role_authenticates(imp):
    from tests.contract.conftest import create_client

    imp.ok("regions", REGIONS)
    imp.ok("institutions", INSTITUTIONS)
    for name, role, code in (("h", "institution", "H001"), ("c", "channel", None), ("s", "staff", None)):
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {create_client(name, role, code)}")
        r = api.post("/api/v1/persons/lookup", {"id_number": "320102197001010118"}, format="json")
        assert r.status_code == 404, (role, r.content)


def test_xlsx_and_dry_run_in_process(imp):
    out = imp.ok("regions", write_xlsx(imp.dir / "r.xlsx", REGIONS), dry_run=True)
    assert "新增 5" in out
    assert "新增 5" in imp.ok("regions", write_xlsx(imp.dir / "r2.xlsx", REGIONS))
