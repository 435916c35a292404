"""Settlement load benchmark: gunicorn on PostgreSQL, driven from a second process over loopback.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ma_settle .venv/bin/python bench/settle_load.py \
        [--grantors 300] [--hot-members 40] [--clients 8] [--requests 3000] [--rounds 5] [--servers 5x1,2x4]

The server is gunicorn with the production settings (config/gunicorn.conf.py: sync workers for one thread, gthread
with keep-alive 30 s for more, no access log). `--servers` lists the shapes to measure as WORKERSxTHREADS, by
default the production shape on this machine (2 × cores + 1 processes of one thread); WORKERSxTHREADS:CLASS names
gunicorn's worker class instead (`5x1:gthread`), and WORKERSxTHREADS@PATH serves another checkout of the project (a
git worktree of an earlier commit) on the same database, so that before and after compare in one run. Each shape is
started in turn on the same seeded database and warmed up, not timed: every worker thread opens its database
connection, 500 settlements are made and the tables analysed. Then the three scenarios take turns, c, a, b, c, a, b,
... for `--rounds` rounds (default 5), so that the ratios compare figures of the same run and a change in the shared
machine's load falls on all three alike. The server runs as in production: DEBUG off, WARNING logging, no access
log, persistent database connections (CONN_MAX_AGE=60). The driver keeps its connections alive; a sync worker closes
each after its response and the driver opens a new one, as a reverse proxy does towards gunicorn.

Scenarios, each timed from the driver process (wall time, p50/p95/p99 latency per request):
  (a) many grantors: every request is a different family (member of its own grantor): no lock contention;
  (b) one hot grantor: all of its members pay at once, every request locks the same account row;
  (c) a trivial authenticated endpoint (GET persons/{person_no}) for the ratio.
After (b) the script checks the hot grantor's balance is >= 0 and equals the sum of its ledger entries.
The database is flushed and re-seeded at the start (it must be a scratch database).
"""

import argparse
import contextlib
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def setup_django():
    import django

    django.setup()


def fresh_database():
    """Drop and re-create the scratch database (flush cannot: the ledger refuses TRUNCATE), then migrate."""
    from urllib.parse import urlparse

    import psycopg

    url = urlparse(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/")
    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed(grantors: int, hot_members: int) -> dict:
    fresh_database()
    from tests import factories

    factories.policy("320000", spouse_confirmation=False, single_relationship=True)
    suzhou = factories.region("320500", "苏州市")
    institution = factories.institution(code="HBENCH01", region=suzhou)
    _, token = factories.api_client(role="institution", institution=institution, name="bench-institution")
    families = []
    for i in range(grantors):
        grantor = factories.grantor(name=f"王{i}", balance="100000.00")
        member = factories.resident(name=f"李{i}")
        factories.authorization(grantor, member, "parent")
        families.append(member.id_number)
    hot = factories.grantor(name="热点", balance="100000000.00")
    hot_family = []
    for i in range(hot_members):
        member = factories.resident(name=f"张{i}")
        factories.authorization(hot, member, "child")
        hot_family.append(member.id_number)
    # Statistics and visibility maps for the freshly loaded tables now, and the seeding's WAL flushed by a checkpoint
    # now, not by autovacuum and the checkpointer in the middle of the first measured server configuration.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")
    return {
        "token": token,
        "families": families,
        "hot_family": hot_family,
        "hot_grantor": hot.person_no,
        "probe_person": hot.person_no,
    }


def drive(port: int, token: str, jobs: list[tuple[str, str, dict | None]], clients: int) -> dict:
    """Send `jobs` (method, path, body) from `clients` keep-alive connections; returns timings. Bodies are encoded
    before the clock starts; a dropped connection counts as an error (status 0) and is re-opened."""
    latencies, statuses, lock = [], {}, threading.Lock()
    queue = [(method, path, json.dumps(body).encode() if body else None) for method, path, body in reversed(jobs)]

    def worker():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        while True:
            with lock:
                if not queue:
                    break
                method, path, body = queue.pop()
            started = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                status = 0
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1
        connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return summary(latencies, wall, statuses)


def summary(latencies: list[float], wall: float, statuses: dict) -> dict:
    latencies = sorted(latencies)

    def pct(p):
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000

    return {
        "requests": len(latencies),
        "wall_s": round(wall, 2),
        "rps": round(len(latencies) / wall, 1),
        "p50_ms": round(pct(0.50), 1),
        "p95_ms": round(pct(0.95), 1),
        "p99_ms": round(pct(0.99), 1),
        "mean_ms": round(statistics.mean(latencies) * 1000, 1),
        "statuses": statuses,
        "latencies": latencies,
    }


def settlement(patient: str, external_id: str) -> dict:
    return {
        "external_id": external_id,
        "patient_id_number": patient,
        "credential": {"type": "e_voucher", "number": patient},
        "category": "medical",
        "channel": "direct",
        "total_amount": "100.00",
        "fund_paid": "60.00",
    }


def _stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (field 3, the state, is index 0)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pids) -> float:
    """User + system CPU of these processes (and their threads), from /proc; vanished processes count 0."""
    return sum(cpu_by_pid(pids).values())


def cpu_by_pid(pids) -> dict[int, float]:
    """Each live process's user + system CPU seconds (its threads included)."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = _stat(pid)
            found[pid] = (int(fields[11]) + int(fields[12])) / tick
    return found


def reaped_children_cpu(pid: int) -> float:
    """CPU of the children this process has waited for (cutime + cstime): where a backend's CPU goes when it exits."""
    tick = os.sysconf("SC_CLK_TCK")
    fields = _stat(pid)
    return (int(fields[13]) + int(fields[14])) / tick


class BackendCpu:
    """CPU spent by the database's PostgreSQL backends between `__init__` and `seconds()`, counting backends that
    start or exit meanwhile: a worker's persistent connection is closed and reopened after CONN_MAX_AGE, and an exited
    backend's CPU is found in the postmaster's reaped-children time (summing only the live backends went negative)."""

    def __init__(self, database: str):
        self.database = database
        self.before = cpu_by_pid(postgres_pids(database))
        self.postmaster = int(_stat(next(iter(self.before)))[1]) if self.before else None
        self.reaped_before = reaped_children_cpu(self.postmaster) if self.postmaster else 0.0

    def seconds(self) -> float:
        after = cpu_by_pid(postgres_pids(self.database))
        spent = sum(cpu - self.before.get(pid, 0.0) for pid, cpu in after.items())
        if self.postmaster:
            exited = sum(cpu for pid, cpu in self.before.items() if pid not in after)
            spent += reaped_children_cpu(self.postmaster) - self.reaped_before - exited
        return spent


def server_pids(master: int) -> list[int]:
    """The gunicorn master and its workers."""
    pids = [master]
    with contextlib.suppress(OSError):
        pids += [int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    return pids


def postgres_pids(database: str) -> list[int]:
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [database]
        ).fetchall()
    return [row[0] for row in rows]


def measured(port, token, jobs, clients, master: int) -> dict:
    """`drive` plus the CPU the server processes and their PostgreSQL backends spent (seconds, summed later)."""
    from urllib.parse import urlparse

    database = urlparse(os.environ["DATABASE_URL"]).path.lstrip("/")
    backends = BackendCpu(database)
    pids = server_pids(master)
    server_before, driver_before = cpu_seconds(pids), time.process_time()
    result = drive(port, token, jobs, clients)
    result["cpu_s"] = {
        "gunicorn": cpu_seconds(pids) - server_before,
        "postgres_backends": backends.seconds(),
        "driver": time.process_time() - driver_before,
    }
    return result


def combined(parts: list[dict]) -> dict:
    """One scenario's rounds as one figure: all its requests over the sum of its wall times, latency percentiles over
    all its requests, CPU per request over all of them."""
    latencies = [value for part in parts for value in part["latencies"]]
    statuses: dict = {}
    for part in parts:
        for status, count in part["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    result = summary(latencies, sum(part["wall_s"] for part in parts), statuses)
    del result["latencies"]
    result["rounds_rps"] = [part["rps"] for part in parts]
    result["cpu_ms_per_request"] = {
        key: round(sum(part["cpu_s"][key] for part in parts) / len(latencies) * 1000, 2)
        for key in ("gunicorn", "postgres_backends", "driver")
    }
    return result


def driver_main(args):
    data = json.loads(Path(args.seed_file).read_text())
    port, token, tag = args.port, data["token"], args.tag
    families, hot = data["families"], data["hot_family"]
    probe = ("GET", f"/api/v1/persons/{data['probe_person']}", None)
    # Warm-up, not timed: every worker thread serves a few requests (opens its database connection, fills caches).
    drive(port, token, [probe] * (args.clients * 20), args.clients)
    drive(
        port,
        token,
        [("POST", "/api/v1/settlements", settlement(families[i % len(families)], f"{tag}W{i}")) for i in range(500)],
        args.clients,
    )
    # Statistics that know the settlements exist, as autovacuum keeps them in production (it is off on the benchmark
    # host). Without them the server's prepared statements keep plans made for an empty settlements table (a
    # sequential scan for the idempotency look-up) while the table grows through the run.
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as connection:
        connection.execute("ANALYZE")
    # The scenarios take turns, round after round (c, a, b, c, a, b, ...), so that a change in what else the shared
    # machine is doing falls on all three alike and the ratios compare like with like.
    per_round = max(1, args.requests // args.rounds)
    parts: dict[str, list] = {"c_trivial_get_person": [], "a_many_grantors": [], "b_hot_grantor": []}
    sent_a = sent_b = 0
    for _ in range(args.rounds):
        parts["c_trivial_get_person"].append(measured(port, token, [probe] * per_round, args.clients, args.master))
        jobs = [
            ("POST", "/api/v1/settlements", settlement(families[i % len(families)], f"{tag}A{i}"))
            for i in range(sent_a, sent_a + per_round)
        ]
        parts["a_many_grantors"].append(measured(port, token, jobs, args.clients, args.master))
        jobs = [
            ("POST", "/api/v1/settlements", settlement(hot[i % len(hot)], f"{tag}B{i}"))
            for i in range(sent_b, sent_b + per_round)
        ]
        parts["b_hot_grantor"].append(measured(port, token, jobs, args.clients, args.master))
        sent_a += per_round
        sent_b += per_round
    results = {name: combined(rounds) for name, rounds in parts.items()}
    trivial = results["c_trivial_get_person"]["rps"]
    results["ratio_a_to_trivial"] = round(results["a_many_grantors"]["rps"] / trivial, 2)
    results["ratio_b_to_trivial"] = round(results["b_hot_grantor"]["rps"] / trivial, 2)
    # The same ratios round by round (each round's scenarios ran back to back): their median is the steadier figure.
    for scenario, key in (("a_many_grantors", "a"), ("b_hot_grantor", "b")):
        per = [
            own["rps"] / probe_round["rps"]
            for own, probe_round in zip(parts[scenario], parts["c_trivial_get_person"], strict=True)
        ]
        results[f"ratio_{key}_to_trivial_median_of_rounds"] = round(statistics.median(per), 2)
    print(json.dumps(results))


def check_hot_grantor(person_no: str) -> dict:
    setup_django()
    from django.db.models import Sum

    from accounts.models import LedgerEntry, PersonalAccount

    account = PersonalAccount.objects.get(person__person_no=person_no)
    ledger = LedgerEntry.objects.filter(account=account).aggregate(s=Sum("amount"))["s"]
    return {
        "balance": str(account.balance),
        "ledger_sum": str(ledger),
        "consistent": account.balance == ledger and account.balance >= 0,
        "payments": LedgerEntry.objects.filter(account=account, kind="mutual_aid_payment").count(),
        "negative_balance_after_rows": LedgerEntry.objects.filter(balance_after__lt=0).count(),
    }


def machine() -> str:
    cpu = ""
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    pg = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", "show server_version"], capture_output=True, text=True
    ).stdout.strip()
    ram = ""
    with contextlib.suppress(OSError, StopIteration):
        kb = next(
            line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
        )
        ram = f", {int(kb) / 2**20:.1f} GiB RAM"
    load = f", 1-min load average at start {os.getloadavg()[0]:.2f}"
    return (
        f"{cpu}, {os.cpu_count()} CPUs visible (shared){ram}{load}, Python {platform.python_version()}, PostgreSQL {pg}"
    )


def serve_and_drive(
    args, workers: int, threads: int, tag: str, options: str = "", worker_class: str = "", checkout: Path = ROOT
) -> dict:
    env = dict(os.environ, CONN_MAX_AGE="60", CONN_HEALTH_CHECKS="0", LOG_LEVEL="WARNING", DEBUG="0")
    if options:  # psycopg connection options for the server only, through DATABASE_URL's query string
        env["DATABASE_URL"] = os.environ["DATABASE_URL"] + ("&" if "?" in os.environ["DATABASE_URL"] else "?") + options
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "--config",
            str(checkout / "config/gunicorn.conf.py"),  # production settings; the shape and address below override it
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            *(["--worker-class", worker_class] if worker_class else []),
        ],
        cwd=checkout,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                probe = http.client.HTTPConnection("127.0.0.1", args.port, timeout=1)
                probe.request("GET", "/api/v1/schema")
                probe.getresponse().read()
                break
            except OSError:
                time.sleep(0.2)
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--drive",
                "--port",
                str(args.port),
                "--clients",
                str(args.clients),
                "--requests",
                str(args.requests),
                "--rounds",
                str(args.rounds),
                "--seed-file",
                args.seed_file,
                "--tag",
                tag,
                "--master",
                str(server.pid),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        server.terminate()
        server.wait(10)
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--grantors", type=int, default=300)
    parser.add_argument("--hot-members", type=int, default=40)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=3000, help="per scenario, over all rounds")
    parser.add_argument("--rounds", type=int, default=5, help="the scenarios take turns this many times")
    parser.add_argument(
        "--servers",
        default=f"{2 * (os.cpu_count() or 1) + 1}x1",  # config/gunicorn.conf.py's shape on this machine
        help="gunicorn WORKERSxTHREADS[:WORKER_CLASS][+OPTS][@CHECKOUT], comma-separated. :gthread runs that worker "
        "class instead of the production file's choice; @CHECKOUT serves another checkout of the project (a git "
        "worktree of an earlier commit, on the same database: its migrations must match) to compare in one run; "
        "+OPTS adds OPTS (e.g. "
        "server_side_binding=true&prepare_threshold=1) to the server's DATABASE_URL",
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--drive", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tag", default="", help=argparse.SUPPRESS)
    parser.add_argument("--master", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--seed-file", default="/tmp/settle_load_seed.json")
    args = parser.parse_args()
    if args.drive:
        return driver_main(args)
    assert "postgres" in os.environ.get("DATABASE_URL", ""), "set DATABASE_URL to a scratch PostgreSQL database"
    host = machine()
    started = time.perf_counter()
    data = seed(args.grantors, args.hot_members)
    Path(args.seed_file).write_text(json.dumps(data))
    seeded = time.perf_counter() - started
    results = {}
    for index, config in enumerate(args.servers.split(",")):
        config, _, checkout = config.strip().partition("@")
        shape, _, options = config.partition("+")
        shape, _, worker_class = shape.partition(":")
        workers, threads = (int(part) for part in shape.split("x"))
        label = f"gunicorn {workers}x{threads}" + (f" {worker_class}" if worker_class else "")
        label += (f" +{options}" if options else "") + (f" @{checkout}" if checkout else "")
        if label in results:  # the same configuration again: a run of its own, with settlements of its own
            label += f" (#{index + 1})"
        tag = f"{index}-{workers}x{threads}{'p' if options else ''}"  # external ids unique per configuration run
        results[label] = serve_and_drive(
            args,
            workers,
            threads,
            tag=tag,
            options=options,
            worker_class=worker_class,
            checkout=Path(checkout).resolve() if checkout else ROOT,
        )
    results["hot_grantor_check"] = check_hot_grantor(data["hot_grantor"])
    results["setup"] = {
        "grantors": args.grantors,
        "hot_members": args.hot_members,
        "clients": args.clients,
        "requests_per_scenario": args.requests,
        "rounds": args.rounds,
        "gunicorn": "config/gunicorn.conf.py with WORKERSxTHREADS (sync for 1 thread unless :CLASS says otherwise), "
        "DEBUG off, CONN_MAX_AGE=60, CONN_HEALTH_CHECKS=0",
        "seed_s": round(seeded, 1),
        "machine": host,
    }
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
