"""The catalogue's text search through the platform's full-text seam (`core/fulltext.py`): whole
words and prefixes of words, parts of words when no whole word is found, any input is only text,
the other filters and the keyset pages around it, public lots only, and on PostgreSQL the GIN
index answers it."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.utils import timezone

from aips.core import fulltext, search
from aips.etp.lots import selectors as lot_selectors
from aips.etp.lots.models import Lot, LotParty
from aips.etp.lots.selectors import LOT_TEXT, CatalogueFilters, catalogue
from aips.etp.portal.selectors import catalogue_page
from aips.shared.accounts.models import User

Personas = dict[str, User]
ClientAs = Callable[[str | None], Client]

pytestmark = pytest.mark.django_db

NASTY = (
    '"',
    "'",
    '"sunny',
    "sunny*",
    "*",
    "NEAR(sunny flat)",
    "sunny OR flat",
    "sunny AND NOT flat",
    "-sunny",
    "title:sunny",
    "{title}: sunny",
    "sunny & flat | !x",
    "'sunny':* <-> flat",
    "\\",
    "((((",
    "%_%",
    "\x00sunny\x01",
    "a" * 250,
    " ".join(["flat"] * 40),
    "e\u0301",
    "ＳＵＮＮＹ",
    "🏠 sunny",
    "sunny\u200bflat",
    "؟",
    "<script>alert(1)</script>",
    "'; DROP TABLE etp_lots_lot; --",
)


def _lot(personas: Personas, **fields: Any) -> Lot:
    maker = personas[fields.pop("maker", "seller_a_maker")]
    values: dict[str, Any] = {
        "kind": "real_estate",
        "title": "Catalogue lot",
        "region": "Almaty",
        "start_price": Decimal("1000"),
        "state": "published",
        "published_at": timezone.now(),
        "version": 1,
        **fields,
    }
    lot: Lot = Lot.objects.create(organization=maker.organization, created_by=maker, **values)
    return lot


def _ids(query: str) -> set[int]:
    return set(
        catalogue(CatalogueFilters.from_query(QueryDict(query))).values_list("pk", flat=True)
    )


def test_words_and_prefixes_in_title_and_description(personas: Personas) -> None:
    flat = _lot(personas, title="Sunny flat in the centre", description="Two rooms, a balcony")
    house = _lot(personas, title="Пәтер Алматыда", description="Квартира с ремонтом")
    _lot(personas, title="Grey warehouse", description="Near the ring road")
    assert _ids("q=sunny") == {flat.pk}
    assert _ids("q=SUN") >= {flat.pk}  # a prefix of a word, any case
    assert _ids("q=balcony") == {flat.pk}  # the description
    assert _ids("q=flat+sunny") == {flat.pk}  # every word, in any order
    assert _ids("q=пәт") == {house.pk}
    assert _ids("q=квартир+РЕМОНТ") == {house.pk}
    # All the words must occur (then no part of a word holds them either).
    assert _ids("q=sunny+zzzz") == set()


def test_parts_of_words_when_no_whole_word_is_found(personas: Personas) -> None:
    store = _lot(personas, title="Warehouse on the ring road")
    assert _ids("q=arehous") == {store.pk}
    # A whole word found: no fallback to parts of words.
    other = _lot(personas, title="Ring of gold")
    assert _ids("q=ring") == {store.pk, other.pk}


def test_only_public_lots_are_searched(personas: Personas) -> None:
    shown = _lot(personas, title="Tractor for sale")
    gone = _lot(personas, title="Tractor withdrawn", state="withdrawn", withdrawn_at=timezone.now())
    _lot(personas, title="Tractor draft", state="draft", published_at=None)
    _lot(personas, title="Tractor waiting", state="awaiting_verification", published_at=None)
    assert _ids("q=tractor") == {shown.pk, gone.pk}
    # The draft's words are no fallback either.
    assert _ids("q=draft") == set()
    # Only the lots' public text is indexed: never a debtor's data.
    assert {(i.table, i.fields) for i in search.text_indexes() if i.model is Lot} == {
        (Lot._meta.db_table, ("title", "description"))
    }
    assert not [i for i in search.text_indexes() if i.model is LotParty]


def test_the_index_follows_changes(personas: Personas) -> None:
    lot = _lot(personas, title="Blue sedan")
    assert _ids("q=sedan") == {lot.pk}
    lot.title = "Red pickup"
    lot.save(update_fields=["title"])
    assert _ids("q=pickup") == {lot.pk}
    assert _ids("q=sedan") == set()
    Lot.objects.filter(pk=lot.pk).update(description="with a winch")
    assert _ids("q=winch") == {lot.pk}
    Lot.objects.filter(pk=lot.pk).delete()
    assert _ids("q=pickup") == set()


@pytest.mark.parametrize("q", NASTY)
def test_r57_28_4_no_catalogue_text_query_fails(
    q: str, personas: Personas, client_as: ClientAs
) -> None:
    flat = _lot(personas, title='Sunny "NEAR" flat (a*b): c', description="sunny & flat")
    found = _ids(_encode({"q": q}))
    # Public lots only; no letter or digit in it is no filter at all.
    assert found <= _ids(""), q
    if q in ('"sunny', "sunny*", "-sunny", "\x00sunny\x01"):
        assert flat.pk in found, q
    page, _filters = catalogue_page(_query({"q": q, "sort": "price"}))
    assert {row["id"] for row in page.rows} <= _ids("")
    anon = client_as(None)
    assert anon.get("/", {"q": q}).status_code == 200, q
    # The API's schema refuses control characters (422 in the one error shape), never a 5xx.
    assert anon.get("/api/v1/public/lots", {"q": q[:200]}).status_code in (200, 422), q


def test_syntax_is_only_text(personas: Personas) -> None:
    flat = _lot(personas, title='Sunny "NEAR" flat (ab*cd): ef')
    for q in ('"NEAR"', "NEAR", "(ab*cd):", '"sunny', "sunny -flat", "sunny NEAR flat"):
        assert _ids(_encode({"q": q})) == {flat.pk}, q
    # An operator is a word like any other: all must occur.
    assert _ids(_encode({"q": "sunny OR zzzz"})) == set()
    # Nothing but punctuation is no filter, as any malformed value.
    assert flat.pk in _ids(_encode({"q": "*** ((("}))


def test_text_combines_with_the_other_filters(personas: Personas, client_as: ClientAs) -> None:
    a = _lot(personas, title="Office tower", kind="real_estate", region="Astana")
    b = _lot(personas, title="Office chairs", kind="equipment", region="Astana")
    c = _lot(personas, title="Office tower", kind="real_estate", start_price=Decimal("9000000"))
    d = _lot(personas, maker="seller_b_maker", title="Office block", kind="real_estate")
    seller_b = personas["seller_b_maker"].organization_id
    assert _ids("q=office") == {a.pk, b.pk, c.pk, d.pk}
    assert _ids("q=office&kind=real_estate") == {a.pk, c.pk, d.pk}
    assert _ids("q=office&region=Astana") == {a.pk, b.pk}
    assert _ids("q=office+tower&price_from=5000000") == {c.pk}
    assert _ids(f"q=office&seller={seller_b}") == {d.pk}
    # A word found outside the filters only: the filtered list is empty (then parts of words).
    assert _ids("q=chairs&kind=real_estate") == set()
    anon = client_as(None)
    rows = anon.get("/api/v1/public/lots", {"q": "office", "region": "Astana"}).json()
    assert [r["id"] for r in rows] == [b.pk, a.pk]
    html = anon.get("/", {"q": "tower", "kind": "real_estate"}).content.decode()
    assert "Office tower" in html
    assert "Office chairs" not in html


def test_keyset_pages_under_search(personas: Personas, client_as: ClientAs) -> None:
    at = timezone.now()
    made = {
        _lot(
            personas,
            title=f"Harvester {i}",
            description="combine",
            start_price=Decimal(i % 4),
            published_at=at,
        ).pk
        for i in range(55)
    }
    for i in range(20):
        _lot(personas, title=f"Noise {i}", start_price=Decimal(i % 4), published_at=at)
    for sort in ("-published", "published", "price", "-price"):
        for q in ("harvest", "combine", "arvester"):  # a prefix, the description, a part
            seen: list[int] = []
            query = f"q={q}&sort={sort}&page_size=25"
            while True:
                found, _filters = catalogue_page(QueryDict(query))
                seen += [row["id"] for row in found.rows]
                if not found.next_url:
                    break
                query = found.next_url[1:]
            assert len(seen) == len(set(seen)) == 55, (sort, q)
            assert set(seen) == made, (sort, q)
    anon = client_as(None)
    seen = []
    after = 0
    while True:
        rows = anon.get(f"/api/v1/public/lots?q=harvest&limit=10&after={after}").json()
        if not rows:
            break
        seen += [row["id"] for row in rows]
        after = rows[-1]["id"]
    assert seen == sorted(made, reverse=True)


def test_the_engine_index_exists_and_is_in_step(personas: Personas) -> None:
    _lot(personas, title="Indexed lot")
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
            names = {row[0] for row in cursor.fetchall()}
            assert set(fulltext.sqlite_statements(LOT_TEXT)) <= names
            fts = LOT_TEXT.fts_table
            cursor.execute(f"INSERT INTO {fts}({fts}, rank) VALUES ('integrity-check', 1)")  # noqa: S608
        else:
            cursor.execute("SELECT indexname FROM pg_indexes")
            names = {row[0] for row in cursor.fetchall()}
            assert set(fulltext.pg_index_names(LOT_TEXT)) <= names
    assert search.ensure_text_indexes() == []


def test_postgresql_answers_the_catalogue_search_from_its_index(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The catalogue's text condition compiles the index's own expression; if they drifted
    apart, PostgreSQL would compute every lot's vector and nothing else would fail. The first
    read (the few matches) is the one that must come from the index. (Over all lots: in a
    test's tiny table the state's index is always the cheaper one.)"""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's expression indexes")
    flat = _lot(personas, title="Sunny flat")
    found = fulltext.ranked(Lot.objects.all(), LOT_TEXT, ("sunny", "flat"))
    assert found is not None
    first_read = found.order_by().values_list("pk", flat=True)[:501]
    sql, params = first_read.query.sql_with_params()
    with connection.cursor() as cursor:
        # Neither a table scan nor an index walked in order (which statistics of a tiny table
        # can make the cheaper plan): a bitmap scan of an index is left.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    every, _title = fulltext.pg_index_names(LOT_TEXT)
    assert every in plan, plan
    # A common word (more matches than a page sorts) filters as the lots are read: same lots.
    assert _ids("q=sunny+flat") == {flat.pk}
    monkeypatch.setattr(lot_selectors, "_FEW_MATCHES", 0)
    assert _ids("q=sunny+flat") == {flat.pk}
    assert _ids("q=unny") == {flat.pk}


def _encode(values: dict[str, str]) -> str:
    query = QueryDict(mutable=True)
    query.update(values)
    return query.urlencode()


def _query(values: dict[str, str]) -> QueryDict:
    query = QueryDict(mutable=True)
    query.update(values)
    return query
