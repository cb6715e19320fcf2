"""On PostgreSQL, replace the plain signal table Django created with one partitioned by month.
SQLite keeps the plain table: one writer with large transactions needs no partitions. The
monthly partitions come with 0004 (made through the owner's function); until then rows land in
the default partition."""

from django.db import migrations


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    from aips.center.signals import partitions

    schema_editor.execute(f"DROP TABLE {partitions.TABLE}")
    schema_editor.execute(partitions.CREATE_PARTITIONED)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    raise RuntimeError("the partitioned signal table cannot be turned back into a plain one")


class Migration(migrations.Migration):
    dependencies = [("signals", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
