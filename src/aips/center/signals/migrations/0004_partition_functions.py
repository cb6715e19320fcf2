"""On PostgreSQL, the owner's SECURITY DEFINER functions that create and drop a month's signal
partition (signals/partitions.py), so the application role needs no CREATE on the schema and
owns no table. Then the current months' partitions, made through them."""

from datetime import date

from django.db import migrations


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    from aips.center.signals import partitions

    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT quote_ident(current_schema())")
        (schema,) = cursor.fetchone()
        # No parameters: the body's format() uses %I and %L, which a driver would read as
        # placeholders.
        cursor.execute(partitions.functions_ddl(schema))
    partitions.ensure_partitions(date.today())  # noqa: DTZ011 - months, not instants


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    from aips.center.signals import partitions

    schema_editor.execute(
        f"DROP FUNCTION IF EXISTS {partitions.CREATE_FUNCTION}(date); "
        f"DROP FUNCTION IF EXISTS {partitions.DROP_FUNCTION}(date)"
    )


class Migration(migrations.Migration):
    dependencies = [("signals", "0003_rollup_dashboard_index")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
