from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.clients import api_client_create
from accounts.models import ApiClient, ApiRole


class Command(BaseCommand):
    help = "Create an API client and print its token (the last line of stdout). api.md 'Clients and roles'."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--role", required=True, choices=ApiRole.values)
        parser.add_argument("--institution", help="institution code, required for the institution role")

    def handle(self, *args, name, role, institution, **options):
        namesakes = ApiClient.objects.filter(name=name.strip(), is_active=True).count()
        try:
            client, token = api_client_create(name=name, role=role, institution_code=institution)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        if namesakes:  # on stderr: the token stays the last line of stdout
            self.stderr.write(
                f"注意：已有 {namesakes} 个同名的有效客户端，其令牌仍然有效；新客户端的编号为 {client.pk}。"
            )
        self.stdout.write(f"已创建客户端 {client.name}（{client.get_role_display()}），令牌只显示这一次：")
        self.stdout.write(token)
