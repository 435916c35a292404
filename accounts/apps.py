from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from django.db.backends.signals import connection_created

        from accounts.db import use_c_timestamptz_loader

        connection_created.connect(use_c_timestamptz_loader, dispatch_uid="accounts.use_c_timestamptz_loader")
