# ruff: noqa: S608 -- table and column names come from model _meta and constants; every value is a parameter.
"""The roster (`persons`) import on PostgreSQL: a tight per-row loop and a whole-file, set-based write.

1. Every record is checked in Python by a fast path that only accepts rows which the generic row rules
   (accounts.imports.rows, PersonSpec.parsers/validate) would accept unchanged: plain ASCII ID numbers whose
   checksum is computed from three cached partial sums (region prefix, birth date, serial), choices looked up
   in dicts, known regions in an in-memory set, no cell starting with a formula character. Any other record
   goes through the generic rules, so every bad row is reported exactly as before.
2. Clean rows are streamed with COPY (text format, built in Python, no per-row objects) into a temporary
   table with no index.
3. At the end, a fixed number of statements for the whole file, whatever its size: 人员编号 conflicts (only
   when the file gives any), the counts (new / updated / unchanged), the R13 changes (only when anything
   changes), one UPDATE ... FROM for changed people, one INSERT ... SELECT for new people; each of the two
   opens the personal accounts of the employee-insured rows it wrote in the same statement. R13 is then
   applied once (accounts.services.person_changes_apply, source="import"). A file of new people at least as
   large as the roster (a first load) is inserted with the roster's secondary indexes and foreign keys dropped
   and rebuilt afterwards, in the same transaction (accounts.db.bulk_load).

Generated 人员编号 are the region code and 14 digits: a random base per region, plus the row's rank among the
file's rows of that region with a blank 人员编号 (counted while streaming, so no window function or sort). The
base is checked against the table and the file's own numbers (one index range probe per region) and drawn
again on a hit, so they are unique before the unique index is asked. New people are inserted in ID-number
order (sorted under "C", which for digit strings is the same order and much cheaper than the database
collation), which keeps the id_number indexes' inserts local.
"""

import contextlib
import datetime
import secrets

from django.db import connection

from accounts.db import bulk_load
from accounts.id_numbers import CHECK_CHARS, WEIGHTS
from accounts.imports import rows as R
from accounts.models import InsuranceType, Person, PersonalAccount
from accounts.services import ENDING_STATUSES, PersonChanges

STAGE = "import_person_stage"
STAGE_COLUMNS = (
    "line", "id_number", "name", "sex", "birth_date", "insurance_type", "insurance_status", "region_id",
    "category", "person_no", "phone", "seq",
)  # fmt: skip
FLUSH_ROWS = 5000
FORMULA_START = frozenset("=+-@")
DIGITS = frozenset("0123456789")
SEX_BY_DIGIT = {str(d): ("1" if d % 2 else "2") for d in range(10)}
RANDOM_SPAN = 10**14
MAX_DRAWS = 20
# New people at least this many, and at least as many as the table holds: the indexes are rebuilt instead
# of inserted into (accounts.db.bulk_load). Below it the ordinary insert is cheap enough and locks nothing.
BULK_LOAD_MIN_ROWS = 100_000


def _escape(value: str) -> str:
    """COPY text format escaping of one field."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


class FastIdChecker:
    """GB 11643 check of an 18-character ID number by three cached partial weighted sums. Returns
    (sex, birth date ISO) or None when the number is not a plain valid one (the generic rule then reports
    why). Same rule as accounts.imports.rows.id_number, restricted to ASCII digits."""

    def __init__(self):
        self.today = datetime.date.today()
        self.prefix: dict[str, int | None] = {}
        self.birth: dict[str, tuple[int, str] | None] = {}
        self.serial = {f"{n:03d}": sum(int(d) * w for d, w in zip(f"{n:03d}", WEIGHTS[14:], strict=True))
                       for n in range(1000)}  # fmt: skip

    def _prefix(self, part: str):
        ok = len(part) == 6 and all(c in DIGITS for c in part)
        value = sum(int(d) * w for d, w in zip(part, WEIGHTS[:6], strict=True)) if ok else None
        self.prefix[part] = value
        return value

    def _birth(self, part: str):
        value = None
        if len(part) == 8 and all(c in DIGITS for c in part):
            try:
                day = datetime.date(int(part[:4]), int(part[4:6]), int(part[6:]))
            except ValueError:
                day = None
            if day is not None and day.year >= 1900 and day <= self.today:
                value = (sum(int(d) * w for d, w in zip(part, WEIGHTS[6:14], strict=True)), day.isoformat())
        self.birth[part] = value
        return value

    def __call__(self, number: str):
        if len(number) != 18:
            return None
        part = number[:6]
        a = self.prefix[part] if part in self.prefix else self._prefix(part)
        if a is None:
            return None
        part = number[6:14]
        b = self.birth[part] if part in self.birth else self._birth(part)
        if b is None:
            return None
        c = self.serial.get(number[14:17])
        if c is None or CHECK_CHARS[(a + b[0] + c) % 11] != number[17]:
            return None
        return SEX_BY_DIGIT[number[16]], b[1]


class StagedRoster:
    """Owned by a PersonSpec (accounts.imports.resources) on PostgreSQL: `consume` stages, `check` reports
    the database-dependent errors and counts, `write` writes, all inside the pipeline's transaction."""

    def __init__(self, spec):
        from accounts.imports.resources import CATEGORIES, INSURANCE_STATUSES, INSURANCE_TYPES

        self.spec = spec
        self.report = spec.report
        self.types, self.statuses, self.categories = INSURANCE_TYPES, INSURANCE_STATUSES, CATEGORIES
        self.regions = {code for code in spec.regions if R.REGION_CODE_RE.fullmatch(code)}
        self.blank_no_by_region: dict[str, int] = {}
        self.given_person_no = 0
        self.staged = 0
        self.in_order = True  # the staged ID numbers ascend (the file's order is already the insert order)

    # --- 1 and 2: rows ----------------------------------------------------------------------------------
    def consume(self, records, index: dict[str, int]) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
            cursor.execute(
                f"""CREATE TEMP TABLE {STAGE} (line integer, id_number text, name text, sex text, birth_date date,
                    insurance_type text, insurance_status text, region_id text, category text, person_no text,
                    phone text, seq bigint) ON COMMIT DROP"""
            )
            with cursor.cursor.copy(f"COPY {STAGE} ({', '.join(STAGE_COLUMNS)}) FROM STDIN") as copy:
                self._stream(records, index, copy)
            cursor.execute(f"ANALYZE {STAGE}")
        self.check()

    def _stream(self, records, index, copy) -> None:
        spec = self.spec
        check_id = FastIdChecker()
        types, statuses, categories, regions = self.types, self.statuses, self.categories, self.regions
        seen, seen_no = spec.seen, spec.seen_person_no
        blank_no = self.blank_no_by_region
        formula = FORMULA_START
        i_id, i_name, i_type, i_status, i_region = (index[n] for n in
                                                    ("id_number", "name", "insurance_type", "insurance_status",
                                                     "region"))  # fmt: skip
        i_cat, i_no, i_phone = index.get("category"), index.get("person_no"), index.get("phone")
        width = max(index.values()) + 1
        buffer: list[str] = []
        last = ""
        for line, cells in records:
            out = None
            if len(cells) >= width:
                idn = cells[i_id]
                name = cells[i_name]
                itype = types.get(cells[i_type])
                status = statuses.get(cells[i_status])
                region = cells[i_region]
                category = cells[i_cat] if i_cat is not None else ""
                person_no = cells[i_no] if i_no is not None else ""
                phone = cells[i_phone] if i_phone is not None else ""
                if idn[-1:] == "x":
                    idn = idn.upper()
                facts = check_id(idn)
                if (
                    facts is not None
                    and itype is not None
                    and status is not None
                    and region in regions
                    and name
                    and len(name) <= 50
                    and name[0] not in formula
                    and (not category or category in categories)
                    and (not person_no or (len(person_no) <= 30 and person_no[0] not in formula))
                    and (not phone or (len(phone) <= 20 and phone[0] not in formula))
                ):
                    key = int(idn[:17])
                    no_key = R.person_no_key(person_no) if person_no else None
                    if key not in seen and (no_key is None or no_key not in seen_no):
                        seen.add(key)
                        if no_key is None:
                            seq = blank_no.get(region, 0)
                            blank_no[region] = seq + 1
                        else:
                            seen_no.add(no_key)
                            self.given_person_no += 1
                            seq = 0
                        text = name + person_no + phone
                        if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
                            name, person_no, phone = _escape(name), _escape(person_no), _escape(phone)
                        code = categories[category] if category else ""
                        out = (f"{line}\t{idn}\t{name}\t{facts[0]}\t{facts[1]}\t{itype}\t{status}\t{region}\t"
                               f"{code}\t{person_no}\t{phone}\t{seq}\n")  # fmt: skip
                        if idn <= last:
                            self.in_order = False
                        last = idn
            if out is None:
                out = self._generic(line, cells, index)
                if out is None:
                    continue
                self.in_order = False
            buffer.append(out)
            if len(buffer) >= FLUSH_ROWS:
                copy.write("".join(buffer))
                self.staged += len(buffer)
                buffer.clear()
        if buffer:
            copy.write("".join(buffer))
            self.staged += len(buffer)

    def _generic(self, line: int, cells: list[str], index: dict[str, int]) -> str | None:
        """The generic row rules (every error reported as for any resource); the staged line or None."""
        if not any(cells):
            return None
        width = len(cells)
        values = {name: (cells[i] if i < width else "") for name, i in index.items()}
        row = self.spec.clean_row(line, values)
        if row is None:
            return None
        d = row.data
        idn, facts = d["id_number"]
        person_no = d.get("person_no", "")
        seq = 0
        if person_no:
            self.given_person_no += 1
        else:
            seq = self.blank_no_by_region.get(d["region"], 0)
            self.blank_no_by_region[d["region"]] = seq + 1
        fields = (str(line), idn, d["name"], facts.sex, facts.birth_date.isoformat(), d["insurance_type"],
                  d["insurance_status"], d["region"], d.get("category", ""), person_no, d.get("phone", ""),
                  str(seq))  # fmt: skip
        return "\t".join(_escape(f) for f in fields) + "\n"

    # --- 3: the whole file at once ----------------------------------------------------------------------
    def _differs(self) -> str:
        """SQL: the staged row `s` changes person `p` (category and phone only when the file has them)."""
        columns = ["name", "insurance_type", "insurance_status", "region_id"]
        columns += [c for c in ("category", "phone") if c in self.spec.present]
        return f"({', '.join('p.' + c for c in columns)}) IS DISTINCT FROM ({', '.join('s.' + c for c in columns)})"

    def check(self) -> None:
        """人员编号 conflicts with the database (reported per row), then the counts."""
        from accounts.imports.resources import MSG_PERSON_NO_DIFFERS, MSG_PERSON_NO_TAKEN

        person = Person._meta.db_table
        with connection.cursor() as cursor:
            if self.given_person_no:
                cursor.execute(
                    f"""SELECT s.line, q.id IS NOT NULL AND q.id_number <> s.id_number, p.person_no
                        FROM {STAGE} s
                        LEFT JOIN {person} q ON q.person_no = s.person_no
                        LEFT JOIN {person} p ON p.id_number = s.id_number
                        WHERE s.person_no <> ''
                          AND ((q.id IS NOT NULL AND q.id_number <> s.id_number)
                               OR (p.id IS NOT NULL AND p.person_no <> s.person_no))"""
                )
                bad = []
                for line, taken, current in cursor.fetchall():
                    message = MSG_PERSON_NO_TAKEN if taken else MSG_PERSON_NO_DIFFERS.format(person_no=current)
                    self.spec.error(line, "person_no", message)
                    bad.append(line)
                if bad:
                    cursor.execute(f"DELETE FROM {STAGE} WHERE line = ANY(%s)", [bad])
            cursor.execute(
                f"""SELECT count(*) FILTER (WHERE p.id IS NULL),
                           count(*) FILTER (WHERE p.id IS NOT NULL AND {self._differs()}),
                           count(*)
                    FROM {STAGE} s LEFT JOIN {person} p ON p.id_number = s.id_number"""
            )
            new, updated, total = cursor.fetchone()
        self.all_new = new == total
        self.report.created += new
        self.report.updated += updated
        self.report.unchanged += total - new - updated
        self.new, self.changed = new, updated

    def write(self) -> PersonChanges:
        """Update changed people, insert new ones, open accounts; the R13 changes for person_changes_apply."""
        changes = PersonChanges()
        with connection.cursor() as cursor:
            if self.changed:
                changes = self._r13(cursor)
                self._update(cursor)
            if self.new:
                self._insert(cursor)
        return changes

    def _r13(self, cursor) -> PersonChanges:
        """accounts.services.person_changes_between, for every changed row at once."""
        ended, moved, left = set(), set(), set()
        ending = [str(status) for status in ENDING_STATUSES]
        cursor.execute(
            f"""SELECT p.id,
                       s.insurance_status = ANY(%s) AND p.insurance_status <> s.insurance_status,
                       p.region_id <> s.region_id,
                       p.insurance_type = %s AND s.insurance_type <> %s
                FROM {STAGE} s JOIN {Person._meta.db_table} p ON p.id_number = s.id_number
                WHERE (s.insurance_status = ANY(%s) AND p.insurance_status <> s.insurance_status)
                   OR p.region_id <> s.region_id
                   OR (p.insurance_type = %s AND s.insurance_type <> %s)""",
            [
                ending,
                InsuranceType.EMPLOYEE,
                InsuranceType.EMPLOYEE,
                ending,
                InsuranceType.EMPLOYEE,
                InsuranceType.EMPLOYEE,
            ],  # fmt: skip
        )
        for pk, is_ended, is_moved, is_left in cursor.fetchall():
            if is_ended:
                ended.add(pk)
            if is_moved:
                moved.add(pk)
            if is_left:
                left.add(pk)
        return PersonChanges(
            suspended_or_terminated=frozenset(ended),
            moved_region=frozenset(moved),
            left_employee_insurance=frozenset(left),
        )

    def _update(self, cursor) -> None:
        columns = ["name", "insurance_type", "insurance_status", "region_id"]
        columns += [c for c in ("category", "phone") if c in self.spec.present]
        assignments = ", ".join(f"{c} = s.{c}" for c in columns)
        cursor.execute(
            f"""WITH changed AS (
                    UPDATE {Person._meta.db_table} AS p SET {assignments}, updated_at = %s
                    FROM {STAGE} s WHERE p.id_number = s.id_number AND {self._differs()}
                    RETURNING p.id, p.insurance_type)
                INSERT INTO {PersonalAccount._meta.db_table} (person_id, balance, opened_at)
                SELECT c.id, 0, %s FROM changed c
                WHERE c.insurance_type = %s
                  AND NOT EXISTS (SELECT 1 FROM {PersonalAccount._meta.db_table} a WHERE a.person_id = c.id)""",
            [self.spec.now, self.spec.now, InsuranceType.EMPLOYEE],
        )

    def _bases(self, cursor) -> dict[str, int]:
        """A random base per region whose range of consecutive numbers no 人员编号 uses (table or file)."""
        person = Person._meta.db_table
        bases = {}
        for region, count in sorted(self.blank_no_by_region.items()):
            for _ in range(MAX_DRAWS):
                base = secrets.randbelow(RANDOM_SPAN - count)
                low, high = f"{region}{base:014d}", f"{region}{base + count - 1:014d}"
                cursor.execute(
                    f"""SELECT EXISTS (SELECT 1 FROM {person} WHERE person_no BETWEEN %s AND %s)
                            OR (%s AND EXISTS (SELECT 1 FROM {STAGE} WHERE person_no BETWEEN %s AND %s))""",
                    [low, high, self.given_person_no > 0, low, high],
                )
                if not cursor.fetchone()[0]:
                    bases[region] = base
                    break
            else:  # pragma: no cover - 20 draws each hitting a used number
                raise RuntimeError(f"无法为区划 {region} 生成不重复的人员编号")
        return bases

    def _insert(self, cursor) -> None:
        person, account = Person._meta.db_table, PersonalAccount._meta.db_table
        bases = self._bases(cursor)
        # Only new rows are inserted, in ID-number order. When every staged row is new, the anti-join is
        # skipped; when the file's (fast-path) rows already ascend, the stage's scan order is that order and
        # the sort is skipped (same rows, same order, same ids).
        only_new = f"WHERE NOT EXISTS (SELECT 1 FROM {person} p WHERE p.id_number = s.id_number)"
        fresh = "" if self.all_new else only_new
        order = "" if self.in_order else 'ORDER BY f.id_number COLLATE "C"'
        loading = bulk_load([person, account]) if self._wants_bulk_load(cursor) else contextlib.nullcontext(False)
        with loading:
            self._insert_new(cursor, bases, fresh, order)

    def _wants_bulk_load(self, cursor) -> bool:
        """A load at least as large as the table it goes into (the first roster of a bureau, typically).
        Never for a dry run: checking a file must not lock the roster."""
        if self.report.dry_run or self.new < BULK_LOAD_MIN_ROWS:
            return False
        cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM {Person._meta.db_table} LIMIT %s) t", [self.new + 1])
        return cursor.fetchone()[0] <= self.new

    def _insert_new(self, cursor, bases: dict[str, int], fresh: str, order: str) -> None:
        person, account = Person._meta.db_table, PersonalAccount._meta.db_table
        now = self.spec.now
        cursor.execute(
            f"""WITH base AS (SELECT * FROM unnest(%s::text[], %s::bigint[]) AS b(region_id, base)),
                fresh AS (SELECT s.* FROM {STAGE} s {fresh}),
                inserted AS (
                    INSERT INTO {person} (person_no, id_number, name, sex, birth_date, insurance_type,
                                          insurance_status, region_id, category, phone, created_at, updated_at)
                    SELECT CASE WHEN f.person_no <> '' THEN f.person_no
                                ELSE f.region_id || lpad((b.base + f.seq)::text, 14, '0') END,
                           f.id_number, f.name, f.sex, f.birth_date, f.insurance_type, f.insurance_status,
                           f.region_id, f.category, f.phone, %s, %s
                    FROM fresh f LEFT JOIN base b ON b.region_id = f.region_id
                    {order}
                    RETURNING id, insurance_type)
                INSERT INTO {account} (person_id, balance, opened_at)
                SELECT i.id, 0, %s FROM inserted i WHERE i.insurance_type = %s""",
            [list(bases), list(bases.values()), now, now, now, InsuranceType.EMPLOYEE],
        )

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
