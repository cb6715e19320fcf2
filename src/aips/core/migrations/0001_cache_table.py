from io import StringIO
from typing import Any

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps: Any, schema_editor: Any) -> None:
    # The rate-limit cache lives in the database unless Redis is configured; a migration makes
    # sure the table exists wherever `migrate` ran (including test databases).
    call_command(
        "createcachetable",
        database=schema_editor.connection.alias,
        verbosity=0,
        stdout=StringIO(),
    )


class Migration(migrations.Migration):
    dependencies: list[tuple[str, str]] = []
    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
