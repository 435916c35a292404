"""The three staff groups and their permissions (窗口经办 / 业务主管 / 稽核).

Permissions are created by post_migrate normally; they are created here first so that a fresh
database gets complete groups in one `migrate`.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

COUNTER = "窗口经办"
SUPERVISOR = "业务主管"
AUDITOR = "稽核"

READ_ALL = [
    ("accounts", m) for m in ["region", "person", "personalaccount", "ledgerentry", "crossregionfiling", "apiclient"]
] + [
    ("bindings", m)
    for m in ["policy", "authorization", "authorizationevent", "authorizationdocument", "documentaccess", "familylink"]
] + [("settlements", m) for m in ["institution", "catalogueitem", "settlement", "settlementitem"]]

COUNTER_WRITES = [
    ("accounts", "add_person"), ("accounts", "change_person"),
    ("accounts", "add_crossregionfiling"), ("accounts", "change_crossregionfiling"),
    ("bindings", "add_authorization"), ("bindings", "change_authorization"),
    ("bindings", "add_authorizationdocument"), ("bindings", "view_document_file"),
    ("bindings", "add_familylink"), ("bindings", "change_familylink"),
]
SUPERVISOR_WRITES = COUNTER_WRITES + [
    ("bindings", "add_policy"), ("bindings", "change_policy"),
    ("settlements", "add_institution"), ("settlements", "change_institution"),
    ("settlements", "add_catalogueitem"), ("settlements", "change_catalogueitem"),
    ("accounts", "add_region"), ("accounts", "change_region"),
    ("accounts", "add_ledgerentry"),  # credits import: appends only, the triggers refuse changes
]
AUDITOR_EXTRA = [("bindings", "view_document_file")]


def create_groups(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def perms(pairs):
        found = []
        for app_label, codename in pairs:
            found.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        return found

    views = [(app, f"view_{model}") for app, model in READ_ALL]
    for name, extra in ((COUNTER, COUNTER_WRITES), (SUPERVISOR, SUPERVISOR_WRITES), (AUDITOR, AUDITOR_EXTRA)):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(perms(views + extra))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_ledger_append_only"),
        ("bindings", "0002_events_append_only"),
        ("settlements", "0002_seed_catalogue"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
