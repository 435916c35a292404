from django.core.management.base import BaseCommand, CommandError

from accounts.ledger_checks import ledger_mismatches
from accounts.models import LedgerEntry, PersonalAccount


class Command(BaseCommand):
    help = "Recompute every personal account from its ledger entries; exit non-zero on any mismatch."

    def handle(self, *args, **options):
        mismatches = ledger_mismatches()
        for m in mismatches:
            if m.kind == "balance":
                self.stderr.write(f"账户 {m.account_id}：余额 {m.found}，流水合计 {m.expected}")
            else:
                self.stderr.write(
                    f"账户 {m.account_id} 流水 {m.entry_id}：记录的变动后余额 {m.found}，按流水累计应为 {m.expected}"
                )
        if mismatches:
            raise CommandError(f"发现 {len(mismatches)} 处不一致。")
        self.stdout.write(
            f"核对完成：{PersonalAccount.objects.count()} 个账户、{LedgerEntry.objects.count()} 条流水，全部一致。"
        )
