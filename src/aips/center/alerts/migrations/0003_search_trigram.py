"""PostgreSQL only: trigram indexes (pg_trgm) for the search box (core/search.py).

The providers match with Django's `icontains`, which PostgreSQL runs as `UPPER(col::text) LIKE
UPPER('%word%')`; a GIN index on exactly that expression with `gin_trgm_ops` answers it
without scanning the table (measured over 100,000 cards: 80-90 ms to 2-18 ms), and the code
does not change. pg_trgm is a trusted extension (PostgreSQL 13+), so the database owner that
runs migrations may create it. SQLite scans (see docs/domains/core.md)."""

from typing import Any

from django.db import migrations

TABLE = "alerts_alert"
COLUMNS = ("title", "description", "indicators", "cve_ids")


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {TABLE}_{column}_trgm ON {TABLE} "
            f"USING gin (UPPER({column}::text) gin_trgm_ops)"
        )


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS {TABLE}_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("alerts", "0002_threat_types")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
