from django.db import migrations

from accounts.db import AppendOnly


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_initial")]

    operations = [AppendOnly("accounts_ledgerentry")]
