from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BindingsConfig(AppConfig):
    name = "bindings"
    verbose_name = _("Bindings")
