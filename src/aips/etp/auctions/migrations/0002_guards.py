from typing import Any

from django.db import migrations

from aips.etp.auctions.db import install_guards, remove_guards


def forwards(apps: Any, schema_editor: Any) -> None:
    install_guards(schema_editor.connection)


def backwards(apps: Any, schema_editor: Any) -> None:
    remove_guards(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("etp_auctions", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
