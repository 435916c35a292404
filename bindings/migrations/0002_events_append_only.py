from django.db import migrations

from accounts.db import AppendOnly


class Migration(migrations.Migration):
    dependencies = [("bindings", "0001_initial")]

    operations = [AppendOnly("bindings_authorizationevent"), AppendOnly("bindings_documentaccess")]
