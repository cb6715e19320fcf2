"""The one numeric-bounds rule (R57.28.4): every integer and decimal that comes in through the API
or a form has a lower and an upper bound, and every value the bounds admit fits its column on
both SQLite and PostgreSQL. Without a bound an id of 2**70 overflows SQLite's 64-bit INTEGER, a
downtime of 10**22 overflows PostgreSQL's 32-bit integer, and an amount of 1e308 is stored on
SQLite and then breaks every page that reads it back: each of those is a 5xx instead of a 422.

Schemas use the annotated types below; forms use the same constants (`form_bounds`).
`aips.core.tests.test_input_rules` walks the OpenAPI schema and fails on any integer or number in
a request that lacks a minimum or a maximum, so a new field cannot forget the rule."""

from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, WithJsonSchema

# PostgreSQL's integer (IntegerField, PositiveIntegerField) and bigint (BigAutoField,
# BigIntegerField); SQLite stores both as a signed 64-bit INTEGER.
INT_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1
# Page sizes: `keyset_page` serves at most settings.AIPS_API_PAGE_MAX (200) rows.
PAGE_MAX = 200
# Money in KZT: the columns are DECIMAL(18, 2). The bound is far above any real transfer total
# and exact as a JSON number, so a client reading the schema never meets a rounding surprise.
KZT_MAX_DIGITS = 18
KZT_DECIMAL_PLACES = 2
KZT_MAX = Decimal("1000000000000000")  # 10^15 KZT
KZT_MAX_NUMBER = 10**15

# A primary key or a reference to one (BigAutoField everywhere): path, query and body alike.
Id = Annotated[int, Field(ge=1, le=BIGINT_MAX)]
# A page size.
PageLimit = Annotated[int, Field(ge=1, le=PAGE_MAX)]
# Counts and durations kept in a PositiveIntegerField.
Count = Annotated[int, Field(ge=0, le=INT_MAX)]
Minutes = Annotated[int, Field(ge=0, le=INT_MAX)]
# Counters that are only kept in JSON (an agent's queue depth, per-input tallies).
Counter = Annotated[int, Field(ge=0, le=BIGINT_MAX)]
# Seconds reported by an agent (ten years is far beyond any real queue age).
Seconds = Annotated[float, Field(ge=0, le=315_360_000)]
# An amount may also come as a JSON string ("1250.50", exact where a float is not); pydantic's
# own schema for a Decimal allows any string there, so "abc" looked valid. The pattern admits
# exactly the strings the bounds admit: up to 15 integer digits and 2 decimals, or 10^15 itself.
KZT_PATTERN = r"^(?:[0-9]{1,15}(?:\.[0-9]{1,2})?|1000000000000000(?:\.0{1,2})?)$"
AmountKzt = Annotated[
    Decimal,
    Field(
        ge=0,
        le=KZT_MAX,
        max_digits=KZT_MAX_DIGITS,
        decimal_places=KZT_DECIMAL_PLACES,
    ),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": KZT_MAX_NUMBER, "multipleOf": 0.01},
                {"type": "string", "pattern": KZT_PATTERN},
            ]
        }
    ),
]


def form_bounds(kind: str) -> dict[str, Any]:
    """The same bounds as keyword arguments of a Django form field (IntegerField,
    DecimalField), so the web forms and the API refuse the same values."""
    if kind == "count":
        return {"min_value": 0, "max_value": INT_MAX}
    if kind == "id":
        return {"min_value": 1, "max_value": BIGINT_MAX}
    if kind == "kzt":
        return {
            "min_value": 0,
            "max_value": KZT_MAX,
            "max_digits": KZT_MAX_DIGITS,
            "decimal_places": KZT_DECIMAL_PLACES,
        }
    raise ValueError(kind)
