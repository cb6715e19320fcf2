"""Full-text search behind the search seam (core/search.py): the engine's index and its queries.

A product declares what its text search reads as a `TextIndex` (a model and its text fields,
the title first) in its `SearchProvider`; core builds the engine's index from the declaration
and asks it ([decision 0034](../../../docs/decisions/0034-full-text-search.md)):

* SQLite: an FTS5 table `<table>_fts` with external content (the table itself, so no text is
  stored twice), tokenizer `unicode61 remove_diacritics 2`, kept in step by three triggers on
  the table (insert, delete, an update that changes an indexed field), and for parts of words
  a second one, `<table>_fts_trigram` (tokenizer `trigram case_sensitive 0`), kept the same way;
* PostgreSQL: two GIN indexes on tsvectors in the 'simple' configuration (lower case, no
  stemming: the texts are in Kazakh, Russian and English, and PostgreSQL ships no Kazakh
  dictionary), one of all the fields and one of the title.

`ensure_text_indexes` makes them after every `migrate` (core's `post_migrate`, `apps.py`),
idempotently: it compares what exists with what the declarations say and remakes only what
differs. Not a migration: SQLite drops a table's triggers when Django rebuilds the table for a
later migration (`ALTER` by copy), and a migration in core would tie core to the products.

The query: every word of the box is a prefix (`skim` finds "skimmer"; Kazakh and Russian
endings need it), all words must occur, and the input is never syntax: the words become quoted
terms (FTS5 `"term"*`, PostgreSQL `'term':*`), so quotes, `*`, `NEAR`, `-`, `:` or brackets are
only text. The rank is a function of the item and the query alone, never of other rows (bm25
counts its term statistics over the whole table, every organization's rows included):

    8 the item is the reference named in the query
  + 4 the words as a phrase in the title  + 2 all the words in the title

then newest first. The tenant filter comes first: the match is a condition of the reader's
visible queryset, so the rank, the count and the limit see only the reader's rows. When no
item of a kind holds the words, the kind falls back to parts of words (`contained`, the title
first): `icontains` on PostgreSQL (its trigram GIN indexes); on SQLite the trigram table for a
word of three characters or more (case folded for Cyrillic and Kazakh letters too, where
SQLite's LIKE folds ASCII only), `icontains` for a shorter one."""

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection as default_connection
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    BooleanField,
    Case,
    F,
    Func,
    IntegerField,
    Model,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.expressions import RawSQL

MAX_WORDS = 8
# FTS5 terms: what unicode61 keeps as a token (letters and digits; "_" separates).
_TOKEN = re.compile(r"[^\W_]+")
_MAX_TOKENS = 16
TOKENIZER = "unicode61 remove_diacritics 2"
# The parts of words on SQLite: every run of three characters, case folded (Unicode's simple
# case folding: Latin, Cyrillic with the Kazakh letters, Greek), diacritics kept, as `icontains`.
TRIGRAM_TOKENIZER = "trigram case_sensitive 0"
TRIGRAM = 3  # a shorter part has no trigram: `icontains`, which SQLite folds for ASCII only
CONFIG = "simple"

NAMED, TITLE_PHRASE, TITLE_WORDS = 8, 4, 2
RANK = "search_rank"


@dataclass(frozen=True)
class TextIndex:
    """A product's searchable text: `fields` are text columns of `model`, the title first."""

    model: type[Model]
    fields: tuple[str, ...]

    @property
    def table(self) -> str:
        return str(self.model._meta.db_table)

    @property
    def pk(self) -> str:
        pk = self.model._meta.pk
        return str(pk.column) if pk is not None else "id"

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(str(self.model._meta.get_field(f).column) for f in self.fields)  # type: ignore[union-attr]

    @property
    def title(self) -> str:
        return self.fields[0]

    @property
    def fts_table(self) -> str:
        return f"{self.table}_fts"

    @property
    def trigram_table(self) -> str:
        return f"{self.table}_fts_trigram"


def _quote(name: str) -> str:
    if not name.isidentifier():  # model metadata: never user input, but never trusted blindly
        raise ValueError(f"not an identifier: {name!r}")
    return f'"{name}"'


def clean_words(words: Iterable[str]) -> tuple[str, ...]:
    """At most `MAX_WORDS` words, without control characters or lone surrogates (neither engine
    takes a NUL in a query), and only those with a letter or digit."""
    kept = []
    for word in words:
        printable = "".join(ch for ch in word if ch.isprintable() and not ch.isspace())
        if _TOKEN.search(printable):
            kept.append(printable)
    return tuple(kept[:MAX_WORDS])


# --- the index ----------------------------------------------------------------------------------


def pg_vectors(index: TextIndex) -> tuple[str, str]:
    """The tsvector expressions of all the fields and of the title, as the indexes are built;
    the queries compile the same text (`_Vector`), so PostgreSQL answers from the indexes."""
    title, *_rest = columns = [f"COALESCE({_quote(c)}, '')" for c in index.columns]
    every = " || ' ' || ".join(columns)
    return (
        f"to_tsvector('{CONFIG}'::regconfig, {every})",
        f"to_tsvector('{CONFIG}'::regconfig, {title})",
    )


def pg_index_names(index: TextIndex) -> tuple[str, str]:
    # The expression's hash in the name: a changed declaration is a new index, the old one goes.
    every, title = pg_vectors(index)
    stem = f"{index.table[:40]}_fts_"
    return (
        stem + hashlib.sha256(every.encode()).hexdigest()[:8],
        stem + "title_" + hashlib.sha256(title.encode()).hexdigest()[:8],
    )


def sqlite_tables(index: TextIndex) -> dict[str, dict[str, str]]:
    """Each FTS5 table of the declaration (the words', the trigrams') → its statements."""
    return {
        index.fts_table: _fts5_statements(index, index.fts_table, TOKENIZER),
        index.trigram_table: _fts5_statements(index, index.trigram_table, TRIGRAM_TOKENIZER),
    }


def sqlite_statements(index: TextIndex) -> dict[str, str]:
    """Name → the exact CREATE statement SQLite keeps in `sqlite_master`, of both tables."""
    return {name: sql for group in sqlite_tables(index).values() for name, sql in group.items()}


def _fts5_statements(index: TextIndex, name: str, tokenizer: str) -> dict[str, str]:
    """An external-content FTS5 table and its three triggers. (S608: every name is model
    metadata checked by `_quote`; no value is user input.)"""
    table, fts, pk = _quote(index.table), _quote(name), _quote(index.pk)
    names = [_quote(c) for c in index.columns]
    cols = ", ".join(names)
    new = ", ".join(f"new.{c}" for c in names)
    old = ", ".join(f"old.{c}" for c in names)
    changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in names)
    return {
        name: (
            f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{index.table}', "
            f"content_rowid='{index.pk}', tokenize='{tokenizer}')"
        ),
        f"{name}_ai": (
            f"CREATE TRIGGER {_quote(name + '_ai')} AFTER INSERT ON {table} BEGIN "  # noqa: S608
            f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.{pk}, {new}); END"
        ),
        f"{name}_ad": (
            f"CREATE TRIGGER {_quote(name + '_ad')} AFTER DELETE ON {table} BEGIN "  # noqa: S608
            f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.{pk}, {old}); END"
        ),
        f"{name}_au": (
            f"CREATE TRIGGER {_quote(name + '_au')} AFTER UPDATE OF {cols} ON {table} "  # noqa: S608
            f"WHEN {changed} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.{pk}, {old}); "
            f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.{pk}, {new}); END"
        ),
    }


def _has_columns(connection: BaseDatabaseWrapper, cursor: Any, index: TextIndex) -> bool:
    if index.table not in connection.introspection.table_names(cursor):
        return False  # migrated backwards, or not yet
    present = {c.name for c in connection.introspection.get_table_description(cursor, index.table)}
    return set(index.columns) <= present


def _ensure_sqlite(connection: BaseDatabaseWrapper, indexes: Iterable[TextIndex]) -> list[str]:
    made = []
    with connection.cursor() as cursor:
        for index in indexes:
            if not _has_columns(connection, cursor, index):
                continue
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type IN ('table', 'trigger')")
            existing = dict(cursor.fetchall())
            for fts_table, statements in sqlite_tables(index).items():
                changed = False
                for name, sql in statements.items():
                    if existing.get(name) == sql:
                        continue
                    if name == fts_table:
                        cursor.execute(f"DROP TABLE IF EXISTS {_quote(name)}")
                    else:
                        cursor.execute(f"DROP TRIGGER IF EXISTS {_quote(name)}")
                    cursor.execute(sql)
                    changed = True
                if changed:
                    # Rows written while a trigger was missing (a rebuilt table) are indexed
                    # again; a new table (the first `migrate` that declares it) is filled.
                    fts = _quote(fts_table)
                    cursor.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")  # noqa: S608 - identifiers from model metadata
                    made.append(fts_table)
    return made


def _ensure_postgresql(connection: BaseDatabaseWrapper, indexes: Iterable[TextIndex]) -> list[str]:
    made = []
    with connection.cursor() as cursor:
        for index in indexes:
            if not _has_columns(connection, cursor, index):
                continue
            cursor.execute(
                "SELECT indexname FROM pg_indexes "
                "WHERE schemaname = current_schema() AND tablename = %s",
                [index.table],
            )
            stem = f"{index.table[:40]}_fts_"
            present = {row[0] for row in cursor.fetchall() if row[0].startswith(stem)}
            wanted = dict(zip(pg_index_names(index), pg_vectors(index), strict=True))
            for name, vector in wanted.items():
                if name not in present:
                    cursor.execute(
                        f"CREATE INDEX {_quote(name)} ON {_quote(index.table)} "
                        f"USING gin (({vector}))"
                    )
                    made.append(name)
            for old in present - set(wanted):
                cursor.execute(f"DROP INDEX IF EXISTS {_quote(old)}")
    return made


def ensure_text_indexes(
    indexes: Iterable[TextIndex], connection: BaseDatabaseWrapper | None = None
) -> list[str]:
    """Make (or remake) the engine's index of each declaration; returns what it made."""
    connection = connection or default_connection
    if connection.vendor == "sqlite":
        return _ensure_sqlite(connection, indexes)
    if connection.vendor == "postgresql":
        return _ensure_postgresql(connection, indexes)
    return []


# --- the queries --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Terms:
    """The engine's query texts for the words: all the words, all in the title, the phrase in
    the title (None for one term). Made of quoted terms only, so they always parse."""

    words: str
    title_words: str
    title_phrase: str | None


def _fts5_terms(index: TextIndex, words: tuple[str, ...]) -> Terms | None:
    tokens = [t for w in words for t in _TOKEN.findall(w)][:_MAX_TOKENS]
    if not tokens:
        return None
    quoted = [f'"{t}"*' for t in tokens]  # a token holds no quote: letters and digits only
    every = " AND ".join(quoted)
    title = "{" + index.columns[0] + "}"
    phrase = f"{title} : ({' + '.join(quoted)})" if len(tokens) > 1 else None
    return Terms(every, f"{title} : ({every})", phrase)


def _pg_terms(words: tuple[str, ...]) -> Terms | None:
    if not words:
        return None
    # Each word goes to PostgreSQL's own parser in quotes, so `evil.example.com` is one lexeme
    # as in the index; inside the quotes only the quote and the backslash need doubling.
    quoted = ["'" + w.replace("\\", "\\\\").replace("'", "''") + "':*" for w in words]
    every = " & ".join(quoted)
    return Terms(every, every, " <-> ".join(quoted) if len(words) > 1 else None)


def _fts5_match(index: TextIndex, query: str) -> Q:
    fts = _quote(index.fts_table)
    sql = f"SELECT rowid FROM {fts} WHERE {fts} MATCH %s"  # noqa: S608 - identifiers from model metadata
    return Q(pk__in=RawSQL(sql, (query,)))  # noqa: S611 - the query text is a parameter


class _Vector(Func):
    """`to_tsvector('simple', COALESCE(a, '') || ' ' || …)` with the columns as Django resolves
    them (aliased inside a subquery): the text of `pg_vectors`, so the index answers it."""

    template = f"to_tsvector('{CONFIG}'::regconfig, %(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = TextField()


class _Coalesced(Func):
    template = "COALESCE(%(expressions)s, '')"  # the literal in the text, as in the index
    output_field = TextField()


def _pg_match(fields: Iterable[str], query: str) -> Q:
    """A condition on the row itself, so PostgreSQL reads it from the index as a bitmap (and
    ANDs it with the visibility's own indexes), or tests the row's own title for a tier."""
    vector = _Vector(*(_Coalesced(F(name)) for name in fields))
    tsquery = Func(Value(query), template=f"to_tsquery('{CONFIG}'::regconfig, %(expressions)s)")
    return Q(
        Func(
            vector,
            tsquery,
            template="%(expressions)s",
            arg_joiner=" @@ ",
            output_field=BooleanField(),
        )
    )


def _rank(*tiers: tuple[Q | None, int]) -> Any:
    rank: Any = Value(0, output_field=IntegerField())
    for condition, points in tiers:
        if condition is not None:
            rank = rank + Case(
                When(condition, then=Value(points)), default=Value(0), output_field=IntegerField()
            )
    return rank


def ranked(
    qs: "QuerySet[Any]",
    index: TextIndex,
    words: tuple[str, ...],
    *,
    named: Q | None = None,
    content: Q | None = None,
) -> "QuerySet[Any] | None":
    """The rows of `qs` (already the reader's visible ones) that hold every word, or that
    `named` picks, annotated with `RANK`; None when there is nothing to look for. `content`
    limits the rows whose fields beyond the title may match."""
    vendor = connections[qs.db].vendor
    terms = _fts5_terms(index, words) if vendor == "sqlite" else _pg_terms(words)
    if terms is None:
        if named is None:
            return None
        only: QuerySet[Any] = qs.filter(named).annotate(**{RANK: Value(NAMED)})
        return only
    if vendor == "sqlite":
        every = _fts5_match(index, terms.words)
        title = _fts5_match(index, terms.title_words)
        phrase = None if terms.title_phrase is None else _fts5_match(index, terms.title_phrase)
    else:
        # On PostgreSQL the tiers test the matched row's own title (microseconds a row): a set
        # of ids from the index would read every organization's matches, or, when PostgreSQL
        # cannot hash it, run once per row.
        every = _pg_match(index.fields, terms.words)
        title = _pg_match(index.fields[:1], terms.title_words)
        phrase = (
            None if terms.title_phrase is None else _pg_match(index.fields[:1], terms.title_phrase)
        )
    # Whoever may read the content matches on every field; anyone else on the title alone.
    match = every if content is None else (every & content) | title
    if named is not None:
        match |= named
    rank = _rank((named, NAMED), (phrase, TITLE_PHRASE), (title, TITLE_WORDS))
    found: QuerySet[Any] = qs.filter(match).annotate(**{RANK: rank})
    return found


def _contains(words: tuple[str, ...], fields: tuple[str, ...]) -> Q:
    match = Q()
    for word in words:
        any_field = Q()
        for name in fields:
            any_field |= Q(**{f"{name}__icontains": word})
        match &= any_field
    return match


def _trigram_match(index: TextIndex, words: tuple[str, ...], *, title_only: bool) -> Q:
    """Rows whose fields (or title) contain every word, from the trigram table: each word one
    FTS5 string, a phrase of its trigrams, which is the word as a substring. Inside the quotes
    only the quote is special (doubled), so no word is syntax."""
    every = " AND ".join('"' + word.replace('"', '""') + '"' for word in words)
    title = index.columns[0]
    _quote(title)  # a bare column name (an identifier) in the filter
    query = f"{{{title}}} : ({every})" if title_only else every
    fts = _quote(index.trigram_table)
    sql = f"SELECT rowid FROM {fts} WHERE {fts} MATCH %s"  # noqa: S608 - identifiers from model metadata
    return Q(pk__in=RawSQL(sql, (query,)))  # noqa: S611 - the query text is a parameter


def _parts(vendor: str, index: TextIndex, words: tuple[str, ...], *, title_only: bool) -> Q:
    fields = index.fields[:1] if title_only else index.fields
    if vendor != "sqlite":
        return _contains(words, fields)  # PostgreSQL: its trigram GIN indexes answer `icontains`
    long = tuple(w for w in words if len(w) >= TRIGRAM)
    match = _contains(tuple(w for w in words if len(w) < TRIGRAM), fields)
    if long:
        match &= _trigram_match(index, long, title_only=title_only)
    return match


def contained(
    qs: "QuerySet[Any]",
    index: TextIndex,
    words: tuple[str, ...],
    *,
    named: Q | None = None,
    content: Q | None = None,
) -> "QuerySet[Any]":
    """The fallback: rows whose fields contain every word as a part of a word (case-insensitive),
    the title first; same arguments and `RANK` as `ranked`. On SQLite a word of three characters
    or more is looked up in the trigram table (`TRIGRAM_TOKENIZER`), a shorter one is
    `icontains` (SQLite's LIKE: case-insensitive for ASCII letters only)."""
    vendor = connections[qs.db].vendor
    title = _parts(vendor, index, words, title_only=True)
    anywhere = _parts(vendor, index, words, title_only=False)
    match = anywhere if content is None else (anywhere & content) | title
    if named is not None:
        match |= named
    rank = _rank((named, NAMED), (title, TITLE_WORDS))
    found: QuerySet[Any] = qs.filter(match).annotate(**{RANK: rank})
    return found
