"""Small admin building blocks shared by the apps' admin modules."""


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
