"""Small admin building blocks shared by the apps' admin modules."""

from django.utils.translation import gettext_noop

# Strings of Django's own admin templates that Django's zh_Hans catalogue leaves in English (screen-reader headers
# of every app table, the page title of a form with errors). Marked here so that makemessages keeps them in the
# project's catalogue, which LOCALE_PATHS consults before Django's.
DJANGO_ADMIN_MSGIDS = (
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    gettext_noop("Error:"),
)


class ReadOnlyAdminMixin:
    """Rows nobody adds, edits or deletes in the admin (ledger entries, audit events, settlements ...):
    financial and audited records change only through services, and the database refuses the rest."""

    actions = None

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
