"""The import pipeline (imports.md): one pass over a streamed file inside one transaction.

Rows are cleaned one by one (pure Python, accounts.imports.rows), then checked against the database in
chunks of `CHUNK_SIZE` with a fixed number of queries per chunk, and written chunk by chunk (COPY and
set-based statements on PostgreSQL, executemany / bulk_create on SQLite) by `ResourceSpec.consume`. The
roster on PostgreSQL overrides it: every clean row is streamed (COPY) into a temporary table and the whole
file is checked and written at the end with a fixed number of set-based statements. Writing stops at the first bad
row; at the end the transaction is rolled back when any row was bad or on a dry run, so an import is all
or nothing and a dry run writes nothing. Only cleaned chunks are held in memory, never the file.
"""

from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction

from accounts.imports.reading import MSG_EMPTY, ImportFileError, read_table
from accounts.imports.rows import RowError

CHUNK_SIZE = 5000
MSG_WRITTEN_MEANWHILE = (
    "导入期间，另一导入（或经办操作）已写入了本文件中的相同记录，本次未写入任何数据。请重新导入：已写入的行将计为未变"
)
MAX_LISTED_ERRORS = 10000

NEW, UPDATED, UNCHANGED = "new", "updated", "unchanged"


def counts_line(created: int, updated: int, unchanged: int, errors: int) -> str:
    """The line every import report ends with (imports.md: "A report ends with counts: new, updated, unchanged,
    errors")."""
    return f"新增 {created}、更新 {updated}、未变 {unchanged}、错误 {errors}"


@dataclass
class ImportReport:
    resource: str
    dry_run: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_lines: set[int] = field(default_factory=set)
    unlisted_errors: int = 0
    ended_authorizations: int = 0
    written: bool = False
    notes: list[str] = field(default_factory=list)  # worth a clerk's look, but not errors (the import goes on)

    def add_error(self, line: int, column: str, message: str) -> None:
        self.error_lines.add(line)
        if len(self.errors) < MAX_LISTED_ERRORS:
            self.errors.append(RowError(line, column, message))
        else:
            self.unlisted_errors += 1

    def count(self, status: str) -> None:
        if status == NEW:
            self.created += 1
        elif status == UPDATED:
            self.updated += 1
        elif status == UNCHANGED:
            self.unchanged += 1

    @property
    def error_count(self) -> int:
        """Bad rows (a row with several bad cells counts once)."""
        return len(self.error_lines)

    @property
    def ok(self) -> bool:
        return not self.error_lines

    @property
    def summary(self) -> str:
        return counts_line(self.created, self.updated, self.unchanged, self.error_count)

    @property
    def outcome(self) -> str:
        if not self.ok:
            return f"导入失败：{self.error_count} 行有错误，未写入任何数据。请改正后重新导入整个文件。"
        if self.dry_run:
            return "试运行：文件检查通过，未写入任何数据。"
        if not self.created and not self.updated:
            return "导入完成：数据与系统一致，没有任何变化。"
        return "导入完成。"

    def error_lines_sorted(self) -> list[str]:
        lines = [str(error) for error in sorted(self.errors, key=lambda e: e.line)]
        if self.unlisted_errors:
            lines.append(f"另有 {self.unlisted_errors} 处错误未列出")
        return lines

    def lines(self) -> list[str]:
        lines = self.error_lines_sorted()
        lines += self.notes[:MAX_LISTED_ERRORS]
        lines.append(self.outcome)
        if self.ended_authorizations:
            verb = "将自动解除" if (self.dry_run or not self.ok) else "已自动解除"
            lines.append(f"因参保状态或参保地变更，{verb}共济授权 {self.ended_authorizations} 条（R13）。")
        lines.append(self.summary)
        return lines


class _Rollback(Exception):
    pass


def run_import(resource: str, stream, *, filename: str = "", dry_run: bool = False, acting_user=None) -> ImportReport:
    """Import a seekable binary file of `resource`. Raises ImportFileError when the file as a whole is unreadable
    (encoding, not a workbook, missing column); bad rows are in the returned report and nothing is written."""
    from accounts.imports.resources import RESOURCES

    try:
        spec_class = RESOURCES[resource]
    except KeyError:
        raise ImportFileError(f"未知的导入类型「{resource}」，可选：{'、'.join(RESOURCES)}") from None
    records = read_table(stream, filename)
    try:
        return _run(spec_class, records, dry_run=dry_run, acting_user=acting_user, resource=resource)
    finally:
        records.close()


def _run(spec_class, records, *, dry_run: bool, acting_user, resource: str) -> ImportReport:
    try:
        _, header = next(records)
    except StopIteration:
        raise ImportFileError(MSG_EMPTY) from None
    report = ImportReport(resource=resource, dry_run=dry_run)
    spec = spec_class(report=report, acting_user=acting_user)
    index = spec.map_header(header)
    # Raw COPY statements raise the driver's own IntegrityError, not Django's.
    integrity_errors = (IntegrityError, connection.Database.IntegrityError)
    try:
        with transaction.atomic():
            spec.start()
            spec.consume(records, index)
            if report.ok:
                spec.finish()
            if dry_run or not report.ok:
                raise _Rollback
        report.written = True
    except _Rollback:
        pass
    except integrity_errors:
        # Every row was checked against the database, so a unique key taken now was written by another import
        # of the same rows committed meanwhile (two clerks, one file). The transaction is rolled back whole; run
        # again, the rows the other import wrote are counted unchanged. The database's own message is not shown: it
        # would print the key, an ID number.
        raise ImportFileError(MSG_WRITTEN_MEANWHILE) from None
    return report
