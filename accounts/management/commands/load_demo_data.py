from django.core.management.base import BaseCommand

from accounts.demo import load_demo_data


class Command(BaseCommand):
    help = "Load realistic demo data (idempotent) and print the demo logins and API tokens."

    def add_arguments(self, parser):
        parser.add_argument("--families", type=int, default=80, help="families to create (3 to 5 people each)")

    def handle(self, *args, families, **options):
        result = load_demo_data(families=families)
        if result.created:
            self.stdout.write(
                f"已载入演示数据：参保人员 {result.people} 人，共济授权 {result.authorizations} 条，"
                f"结算 {result.settlements} 笔。"
            )
        else:
            self.stdout.write(f"演示数据已存在（参保人员 {result.people} 人），未重复载入。")
        self.stdout.write("管理后台登录（/admin/）：")
        for label, username, password in result.logins:
            self.stdout.write(f"  {label}：用户名 {username}  密码 {password}")
        self.stdout.write("接口令牌（Authorization: Token <令牌>，每次运行重新生成）：")
        for name, role, token in result.tokens:
            self.stdout.write(f"  {name}（{role}）: {token}")
