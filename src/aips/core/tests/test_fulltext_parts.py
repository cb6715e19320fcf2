"""Parts of words, the search seam's fallback (`fulltext.contained`): on SQLite a word of three
characters or more is read from the trigram table (`<table>_fts_trigram`), a shorter one is
`icontains`; PostgreSQL answers `icontains` from its trigram GIN indexes. Either way a row
matches when each word is a case-insensitive substring of one of its fields (R67.4), in
Kazakh, Russian and English alike."""

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.db.models import Q

from aips.center.incidents import services as incident_services
from aips.center.incidents.models import IncidentCard
from aips.center.incidents.selectors import CARD_TEXT
from aips.conftest import card_data
from aips.core import fulltext, search
from aips.shared.accounts.models import User

pytestmark = pytest.mark.django_db

SAMPLE = [
    ("ПӘТЕР Алматыда, ҒИМАРАТ қҰрылысы", "Халықбанк терминалы 100% online_mode"),
    ("пәтер астанада: ғимарат", "BANKOMAT offline, Skimmer"),
    ("Көлік ҚОЙМАСЫ (Ұлттық банк)", "үй-жай һаттрик інжу"),
    ("ҮЙ-ЖАЙ ҺАТТРИК ІНЖУ", "Квартира в ЦЕНТРЕ, Ёлка"),
    ("квартира в центре, ёлка", "Sunny café 50% off"),
    ("Mixed: Қазақстан Kazakhstan КАЗАХСТАН", "Өңір: ӨҢІР, өңір"),
    ("Sunny CAFÉ \\ back_slash", 'Quote "here" and a*b'),
]

QUERIES: list[tuple[str, ...]] = [
    ("пәт",),
    ("ПӘТ",),
    ("Пәтер",),
    ("ғимарат",),
    ("ҒИМАРАТ",),
    ("құрылыс",),
    ("ҚҰРЫЛЫС",),
    ("үй-жай",),
    ("ҮЙ-Ж",),
    ("һат",),
    ("ҺАТТРИК",),
    ("інжу",),
    ("ІНЖ",),
    ("ұлт",),
    ("ҰЛТ",),
    ("лттық",),
    ("банк",),
    ("БАНК",),
    ("bank",),
    ("komat",),
    ("KOMAT",),
    ("центр",),
    ("ЦЕНТР",),
    ("ёлк",),
    ("ЁЛКА",),
    ("азақ",),
    ("АЗАҚ",),
    ("өңір",),
    ("ӨҢІР",),
    ("Өңі",),
    ("café",),
    ("CAFÉ",),
    ("cafe",),
    ("100%",),
    ("0% o",),
    ("e_m",),
    ("_sl",),
    ("\\ b",),
    ('"here"',),
    ('e"',),
    ("a*b",),
    ("пәт", "ғим"),
    ("банк", "KOMAT"),
    ("ҚАЗ", "kaz"),
    ("Sunny", "café"),
    ("пә", "ғимарат"),
    ("Ә",),
    ("ә",),
    ("ab",),
    ("AB",),
    ("ф", "ПӘТЕР"),
    ("пәтер", "ЛЕБЕДЬ"),
]


def _ascii_lower(text: str) -> str:
    """SQLite's LIKE: only the ASCII letters fold."""
    return "".join(ch.lower() if ch.isascii() else ch for ch in text)


def _oracle(
    rows: dict[int, tuple[str, ...]], words: tuple[str, ...], fold: Callable[[str, str], str]
) -> set[int]:
    return {
        pk
        for pk, fields in rows.items()
        if all(any(fold(w, w) in fold(w, v) for v in fields) for w in words)
    }


def _fold(word: str, text: str) -> str:
    """Case-insensitive containment as the seam promises it: every letter folds, except, on
    SQLite, in a word shorter than three characters (LIKE folds ASCII only)."""
    if connection.vendor == "sqlite" and len(word) < fulltext.TRIGRAM:
        return _ascii_lower(text)
    return text.lower()


@pytest.fixture
def sample(personas: dict[str, User]) -> dict[int, tuple[str, ...]]:
    maker = personas["bank_a_maker"]
    for title, impact in SAMPLE:
        incident_services.card_create(actor=maker, **card_data(title=title, impact=impact))
    return {
        row[0]: tuple(v or "" for v in row[1:])
        for row in IncidentCard.objects.values_list("pk", *CARD_TEXT.fields)
    }


def _contained(words: tuple[str, ...], **kwargs: Any) -> dict[int, int]:
    found = fulltext.contained(IncidentCard.objects.all(), CARD_TEXT, words, **kwargs)
    return dict(found.values_list("pk", fulltext.RANK))


def test_r67_4_parts_of_words_are_case_insensitive_substrings_in_every_language(
    sample: dict[int, tuple[str, ...]],
) -> None:
    """Over a Kazakh, Russian and English sample in mixed case: the rows found are exactly
    those where each word is a case-insensitive substring of a field, and the title tier
    exactly those whose title holds every word. (Characters such as %, _, \\, " and * are
    only text.)"""
    titles = {pk: fields[:1] for pk, fields in sample.items()}
    for words in QUERIES:
        found = _contained(words)
        assert set(found) == _oracle(sample, words, _fold), words
        in_title = {pk for pk, rank in found.items() if rank == fulltext.TITLE_WORDS}
        assert in_title == _oracle(titles, words, _fold), words
        # A reader who may not read the content matches on the title alone.
        assert set(_contained(words, content=Q(pk__in=[]))) == in_title, words
    assert _contained(("ҚҰРЫЛЫС",))  # the sample is not trivially empty
    assert len(_contained(("ПӘТЕР",))) == 2


def test_r67_4_the_trigram_table_agrees_with_icontains_where_like_folds(
    sample: dict[int, tuple[str, ...]],
) -> None:
    """The old fallback (`icontains` alone) on the same sample: on SQLite its LIKE folds ASCII
    letters only, so it finds exactly what the trigram table finds save the rows that differ
    from the word in the case of a non-ASCII letter (`ПӘТЕР` finds `пәтер` only now); on
    PostgreSQL nothing changed."""
    for words in QUERIES:
        before = set(IncidentCard.objects.filter(fulltext._contains(words, CARD_TEXT.fields)))
        before_pks = {card.pk for card in before}
        now = set(_contained(words))
        if connection.vendor == "sqlite":
            assert before_pks == _oracle(sample, words, lambda _w, text: _ascii_lower(text))
            assert before_pks <= now, words
            if all(w.isascii() or w == w.lower() == w.upper() for w in words):
                assert before_pks == now, words
        else:
            assert before_pks == now, words


def test_r67_4_a_long_word_is_read_from_the_trigram_table_on_sqlite(
    sample: dict[int, tuple[str, ...]],
) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's trigram table; PostgreSQL's icontains has its GIN indexes")
    sql = str(fulltext.contained(IncidentCard.objects.all(), CARD_TEXT, ("пәт", "банк")).query)
    assert CARD_TEXT.trigram_table in sql
    assert " LIKE " not in sql  # no scan of the table's text
    short = str(fulltext.contained(IncidentCard.objects.all(), CARD_TEXT, ("пә",)).query)
    assert CARD_TEXT.trigram_table not in short
    assert " LIKE " in short


def test_r67_4_an_existing_database_gets_the_trigram_table_on_the_next_migrate(
    sample: dict[int, tuple[str, ...]], personas: dict[str, User]
) -> None:
    """A database made before the trigram table: `ensure_text_indexes` (after `migrate`) makes
    it with its triggers and fills it from the rows already there; then it follows writes."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's trigram table")
    trigram = CARD_TEXT.trigram_table
    with connection.cursor() as cursor:
        for name in fulltext.sqlite_tables(CARD_TEXT)[trigram]:
            kind = "TABLE" if name == trigram else "TRIGGER"
            cursor.execute(f'DROP {kind} "{name}"')
    assert search.ensure_text_indexes() == [trigram]
    assert search.ensure_text_indexes() == []
    assert len(_contained(("ПӘТЕР",))) == 2
    card = incident_services.card_create(
        actor=personas["bank_a_maker"], **card_data(title="Жаңа ПӘТЕРЛЕР")
    )
    assert card.pk in _contained(("пәтерлер",))
    IncidentCard.objects.filter(pk=card.pk).update(title="Ескі үй")
    assert card.pk not in _contained(("пәтерлер",))
    assert card.pk in _contained(("ЕСКІ",))
    IncidentCard.objects.filter(pk=card.pk).delete()
    assert card.pk not in _contained(("ЕСКІ",))
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {trigram}({trigram}, rank) VALUES ('integrity-check', 1)")  # noqa: S608
