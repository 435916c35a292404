"""Roster import benchmark: `import_data persons` on PostgreSQL and SQLite against a plain COPY (the limit) and
a stock django-import-export ModelResource (the peer), in one run, reported as rows/s and ratios.

    .venv/bin/python -m bench.import_roster --rows 100000
    .venv/bin/python -m bench.import_roster --rows 1000000 --pg-db ma_imports

Each measured import runs in its own subprocess; its peak memory is that child's ru_maxrss (os.wait4).
The PostgreSQL database named by --pg-db is dropped and recreated: never point it at real data.
"""

import argparse
import csv
import datetime
import importlib
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HEADER = ["身份证号", "姓名", "险种", "参保状态", "参保地", "人员类别", "人员编号", "手机号"]
REGIONS = [("320000", "江苏省"), ("320500", "苏州市"), ("320100", "南京市"), ("360000", "江西省"), ("360100", "南昌市")]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"
PEER_ROWS = 20_000
ADMIN_ROWS = 20_000


def check_character(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11]


def roster_rows(count: int):
    rng = random.Random(2026)
    start = datetime.date(1950, 1, 1)
    for i in range(count):
        birth = start + datetime.timedelta(days=i // 1000)
        first17 = f"320502{birth:%Y%m%d}{i % 1000:03d}"
        yield [
            first17 + check_character(first17),
            rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
            "职工基本医疗保险" if i % 3 else "城乡居民基本医疗保险",
            "正常参保",
            "320500" if i % 2 else "320100",
            "在职" if i % 3 else "",
            "",
            f"139{i:08d}",
        ]


def write_csv(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(roster_rows(count))


def write_xlsx(path: Path, count: int) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(HEADER)
    for row in roster_rows(count):
        sheet.append(row)
    workbook.save(path)


def run(args: list[str], env: dict) -> tuple[float, int, str]:
    """Wall time, peak RSS (MB) of the child, its output."""
    started = time.perf_counter()
    process = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"failed: {' '.join(args)}\n{output[-3000:]}")
    return elapsed, usage.ru_maxrss // 1024, output


def manage(env, *args):
    return run([PYTHON, "manage.py", *args], env)


def pg_reset(db: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}"')


def prepare(env, workdir: Path) -> None:
    manage(env, "migrate", "--noinput", "-v", "0")
    regions = workdir / "regions.csv"
    with regions.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["区划代码", "名称"], *REGIONS])
    manage(env, "import_data", "regions", str(regions))


def copy_limit(db: str, path: Path) -> float:
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{db}") as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copy")
        conn.execute("CREATE TABLE bench_copy (a text, b text, c text, d text, e text, f text, g text, h text)")
        started = time.perf_counter()
        sql = "COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)"
        with conn.cursor() as cursor, cursor.copy(sql) as copy, path.open("rb") as handle:
            while block := handle.read(1 << 20):
                copy.write(block)
        conn.commit()
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_copy")
        conn.commit()
    return elapsed


# --- subprocess modes ---------------------------------------------------------------------------------


def _django():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def peer_import(path: Path) -> None:
    """A stock ModelResource import of the first PEER_ROWS rows (fields mapped, sex/birth date derived)."""
    _django()
    import tablib
    from import_export import fields, resources

    from accounts.id_numbers import parse_id_number
    from accounts.models import Person
    from accounts.services import person_no_generate

    class PersonResource(resources.ModelResource):
        region = fields.Field(attribute="region_id", column_name="region_id")

        class Meta:
            model = Person
            import_id_fields = ["id_number"]
            fields = ["id_number", "name", "insurance_type", "insurance_status", "region", "category", "phone",
                      "person_no", "sex", "birth_date"]  # fmt: skip
            use_transactions = True

    types = {"职工基本医疗保险": "310", "城乡居民基本医疗保险": "390"}
    headers = ["id_number", "name", "insurance_type", "insurance_status", "region_id", "category", "phone", "person_no"]
    dataset = tablib.Dataset(headers=[*headers, "sex", "birth_date"])
    with path.open(encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        for i, row in enumerate(reader):
            if i >= PEER_ROWS:
                break
            facts = parse_id_number(row[0])
            dataset.append([row[0], row[1], types[row[2]], "normal", row[4], "employed" if row[5] else "", row[7],
                            person_no_generate(row[4]), facts.sex, facts.birth_date])  # fmt: skip
    result = PersonResource().import_data(dataset, dry_run=False, raise_errors=True)
    print(result.totals)


urlpatterns = []


def admin_xlsx(path: Path) -> None:
    """Admin preview + confirm of an XLSX roster through the Django test client."""
    _django()
    from django.contrib import admin
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import path as url_path

    from accounts.imports.admin import ImportAdminMixin
    from accounts.models import Person

    site = admin.AdminSite(name="bench_admin")

    class PersonImportAdmin(ImportAdminMixin, admin.ModelAdmin):
        import_resource = "persons"

    site.register(Person, PersonImportAdmin)
    # Run as __main__, this file is also imported as bench.import_roster: the URLconf lives there.
    importlib.import_module("bench.import_roster").urlpatterns.append(url_path("admin/", site.urls))
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "x")
    client = Client()
    client.force_login(user)
    with override_settings(ROOT_URLCONF="bench.import_roster", ALLOWED_HOSTS=["testserver"]):
        started = time.perf_counter()
        with path.open("rb") as handle:
            preview = client.post("/admin/accounts/person/import/", {"file": handle})
        previewed = time.perf_counter()
        assert preview.status_code == 200, preview.status_code
        found = re.search(r'name="token" value="([^"]+)"', preview.content.decode())
        assert found, preview.content.decode()[:3000]
        token = found.group(1)
        confirm = client.post("/admin/accounts/person/import/", {"token": token})
        assert confirm.status_code == 302, confirm.status_code
        done = time.perf_counter()
    print(f"preview {previewed - started:.2f} confirm {done - previewed:.2f} total {done - started:.2f}")
    print(f"persons {Person.objects.count()}")


# --- the run ------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pg-db", default="ma_imports")
    parser.add_argument("--peer", type=Path)
    parser.add_argument("--admin", type=Path)
    options = parser.parse_args()
    if options.peer:
        return peer_import(options.peer)
    if options.admin:
        return admin_xlsx(options.admin)

    n = options.rows
    workdir = Path(tempfile.mkdtemp(prefix="bench_roster_"))
    roster = workdir / "roster.csv"
    started = time.perf_counter()
    write_csv(roster, n)
    print(f"wrote {n:,} rows ({roster.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s")
    pg_url = f"postgres://postgres@127.0.0.1:5432/{options.pg_db}"
    pg_env = {**os.environ, "DATABASE_URL": pg_url}
    sqlite_env = {**os.environ, "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}"}
    results = {}

    pg_reset(options.pg_db)
    prepare(pg_env, workdir)
    results["copy"] = copy_limit(options.pg_db, roster)
    peer_file = workdir / "peer.csv"
    write_csv(peer_file, min(n, PEER_ROWS))
    results["peer"], results["peer_mb"], _ = run(
        [PYTHON, "-m", "bench.import_roster", "--peer", str(peer_file)], pg_env
    )

    pg_reset(options.pg_db)
    prepare(pg_env, workdir)
    load_before = os.getloadavg()
    results["pg"], results["pg_mb"], out = manage(pg_env, "import_data", "persons", str(roster))
    load_after = os.getloadavg()
    print(out.strip().splitlines()[-1])
    results["pg_again"], results["pg_again_mb"], out = manage(pg_env, "import_data", "persons", str(roster))
    print(out.strip().splitlines()[-1])

    prepare(sqlite_env, workdir)
    results["sqlite"], results["sqlite_mb"], out = manage(sqlite_env, "import_data", "persons", str(roster))
    print(out.strip().splitlines()[-1])
    results["sqlite_again"], results["sqlite_again_mb"], _ = manage(sqlite_env, "import_data", "persons", str(roster))

    pg_reset(options.pg_db)
    prepare(pg_env, workdir)
    xlsx = workdir / "roster.xlsx"
    write_xlsx(xlsx, ADMIN_ROWS)
    _, results["admin_mb"], admin_out = run([PYTHON, "-m", "bench.import_roster", "--admin", str(xlsx)], pg_env)

    peer_n = min(n, PEER_ROWS)
    rate = {key: n / results[key] for key in ("copy", "pg", "pg_again", "sqlite", "sqlite_again")}
    rate["peer"] = peer_n / results["peer"]
    print()
    print(f"rows: {n:,}   (peer: first {peer_n:,} rows; admin: {ADMIN_ROWS:,}-row XLSX)")
    print(f"{'run':<44}{'seconds':>10}{'rows/s':>12}{'peak MB':>10}")
    lines = [
        ("COPY into a bare table (PostgreSQL, the limit)", "copy", None),
        ("import_data persons, PostgreSQL", "pg", "pg_mb"),
        ("re-import unchanged file, PostgreSQL", "pg_again", "pg_again_mb"),
        ("import_data persons, SQLite", "sqlite", "sqlite_mb"),
        ("re-import unchanged file, SQLite", "sqlite_again", "sqlite_again_mb"),
        ("django-import-export ModelResource, PostgreSQL", "peer", "peer_mb"),
    ]
    for label, key, mb in lines:
        print(f"{label:<44}{results[key]:>10.2f}{rate[key]:>12,.0f}{results[mb] if mb else '':>10}")
    admin_line = admin_out.strip().splitlines()[0]
    print(f"admin preview+confirm, 20k XLSX, PostgreSQL: {admin_line} (peak {results['admin_mb']} MB)")
    print(f"load average (1, 5, 15 min) before / after the PostgreSQL import: {load_before} / {load_after}"
          f" on {os.cpu_count()} CPUs")  # fmt: skip
    print(f"ratio import_data PG / COPY: {rate['pg'] / rate['copy']:.2f}")
    print(f"ratio import_data PG / import-export peer: {rate['pg'] / rate['peer']:.1f}x")
    print(f"ratio re-import / import (PG): {rate['pg_again'] / rate['pg']:.2f}")
    print(f"ratio import_data SQLite / PG: {rate['sqlite'] / rate['pg']:.2f}")


if __name__ == "__main__":
    main()
