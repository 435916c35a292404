"""Remove scanned documents left in storage by a rolled-back binding (no row names them), and import files previewed in
the admin but never confirmed. Run daily."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from accounts.imports.admin import pending_imports_sweep
from bindings.services import documents_sweep_orphans


class Command(BaseCommand):
    help = "删除存储中无任何材料记录对应的扫描件（业务回滚后遗留的文件）。只处理早于指定小时数的文件。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-hours", type=float, default=24, help="只删除最后写入早于此小时数的文件（默认 24）。"
        )
        parser.add_argument("--dry-run", action="store_true", help="只列出将删除的文件，不删除。")

    def handle(self, *args, **options):
        hours = options["older_than_hours"]
        if hours < 1:
            raise CommandError("--older-than-hours 不得小于 1：更新的文件可能属于尚未提交的业务。")
        orphans = documents_sweep_orphans(older_than=datetime.timedelta(hours=hours), dry_run=options["dry_run"])
        for name in orphans:
            self.stdout.write(name)
        verb = "将删除" if options["dry_run"] else "已删除"
        self.stdout.write(f"{verb} {len(orphans)} 个无记录的扫描件。")
        # Import files previewed in the admin and never confirmed: whole rosters with ID numbers.
        pending = pending_imports_sweep(older_than=datetime.timedelta(hours=hours), dry_run=options["dry_run"])
        if pending:
            for name in pending:
                self.stdout.write(f"imports/{name}")
            self.stdout.write(f"{verb} {len(pending)} 个预览后未确认的导入文件。")
