"""Admin import pages (replaced by the import pipeline work)."""


class ImportAdminMixin:
    """Admin mixin adding the import page for `import_resource` (a name from imports.md)."""

    import_resource: str | None = None
