"""The worker derives sightings and rollups from committed signals, from a stored position
(derive.py). The position starts at the newest signal: everything stored before this migration
was already counted by the server processes."""

from typing import Any

from django.db import migrations, models


def start_at_newest(apps: Any, schema_editor: Any) -> None:
    DerivePosition = apps.get_model("signals", "DerivePosition")  # noqa: N806
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM signals_signal")
        (newest,) = cursor.fetchone()
    from django.utils import timezone

    DerivePosition.objects.create(name="counts", seq=newest, updated_at=timezone.now())


class Migration(migrations.Migration):
    dependencies = [
        ("signals", "0006_finding_merged_into"),
    ]

    operations = [
        migrations.CreateModel(
            name="DerivePosition",
            fields=[
                ("name", models.CharField(max_length=32, primary_key=True, serialize=False)),
                ("seq", models.BigIntegerField(default=0)),
                ("updated_at", models.DateTimeField()),
            ],
        ),
        migrations.RunPython(start_at_newest, migrations.RunPython.noop),
    ]
