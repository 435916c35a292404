"""`python manage.py import_data RESOURCE FILE [--dry-run]` (api.md "Commands", imports.md)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.imports.pipeline import counts_line, run_import
from accounts.imports.reading import ImportFileError
from accounts.imports.resources import RESOURCES


class Command(BaseCommand):
    help = "导入 CSV（UTF-8 / GB18030）或 XLSX 文件：全部成功才写入，任何一行有错误则不写入并逐行报告。"

    def add_arguments(self, parser):
        parser.add_argument("resource", choices=list(RESOURCES), help="regions | institutions | policies | ...")
        parser.add_argument("file", help="CSV 或 XLSX 文件路径")
        parser.add_argument("--dry-run", action="store_true", help="只检查并报告，不写入")

    def handle(self, *args, resource, file, dry_run=False, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"文件不存在：{file}")
        spec = RESOURCES[resource]
        try:
            with path.open("rb") as stream:
                report = run_import(resource, stream, filename=path.name, dry_run=dry_run)
        except ImportFileError as exc:
            # A file that cannot be read as a table (encoding, a missing required column, not an XLSX) is one error
            # for the whole file; the report still ends with the counts, as every import report does.
            message = [f"{spec.title}导入失败：{exc.message}", "未写入任何数据。", counts_line(0, 0, 0, 1)]
            raise CommandError("\n".join(message)) from None
        for line in report.lines():
            self.stdout.write(line)
        if not report.ok:
            raise CommandError("\n".join([*report.error_lines_sorted()[:200], report.outcome, report.summary]))
