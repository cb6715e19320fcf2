from typing import Any

from django.db import migrations

from aips.etp.auctions.db import install_protocol_guards, remove_protocol_guards


def forwards(apps: Any, schema_editor: Any) -> None:
    install_protocol_guards(schema_editor.connection)


def backwards(apps: Any, schema_editor: Any) -> None:
    remove_protocol_guards(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("etp_auctions", "0003_results")]
    operations = [migrations.RunPython(forwards, backwards)]
