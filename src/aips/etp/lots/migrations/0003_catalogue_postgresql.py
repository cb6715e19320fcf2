"""PostgreSQL only: what the catalogue's queries need there beyond the model's own indexes.

* The newest-first and dearest-first pages: `core/listing.py` orders `published_at DESC NULLS
  LAST, id DESC` (and the same on the start price); PostgreSQL cannot read the ascending
  `etp_lot_published`/`etp_lot_price` backwards for that order (it would give NULLS FIRST), so
  it sorted every public lot (80 ms over 100,000). These indexes have exactly that order. SQLite
  takes no `NULLS LAST` in an index, nor needs it (its NULLs sort first ascending, so a
  backward read of the ascending index is that order).
* Parts of words (the text search's fallback, `icontains`, which PostgreSQL runs as
  `UPPER(col::text) LIKE UPPER('%part%')`): trigram GIN indexes on exactly that expression, as
  AIPS's searched tables have. pg_trgm is a trusted extension (PostgreSQL 13+).

The whole-word search has its own index, made by core after every `migrate` (core/fulltext.py)."""

from typing import Any

from django.db import migrations

TABLE = "etp_lots_lot"
ORDERED = {
    "etp_lot_published_desc": "published_at DESC NULLS LAST, id DESC",
    "etp_lot_price_desc": "start_price DESC NULLS LAST, id DESC",
}
TRIGRAM = ("title", "description")


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, columns in ORDERED.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} ({columns})")
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in TRIGRAM:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {TABLE}_{column}_trgm ON {TABLE} "
            f"USING gin (UPPER({column}::text) gin_trgm_ops)"
        )


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in ORDERED:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    for column in TRIGRAM:
        schema_editor.execute(f"DROP INDEX IF EXISTS {TABLE}_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("etp_lots", "0002_catalogue")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
