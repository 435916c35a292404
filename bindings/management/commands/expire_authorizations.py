"""Mark authorizations past their `valid_to` as expired (R9), with an audit event each (R14). Run daily."""

from django.core.management.base import BaseCommand

from bindings.services import authorizations_expire


class Command(BaseCommand):
    help = "将已过授权期限的共济授权标记为已过期（每条写入审计记录），并输出数量。"

    def handle(self, *args, **options):
        count = authorizations_expire()
        self.stdout.write(f"已将 {count} 条到期的共济授权标记为已过期。")
