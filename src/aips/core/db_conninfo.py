"""A libpq connection string from Django's database settings, for the few places that open a
psycopg connection of their own beside the ORM's (a LISTEN that outlives requests)."""

from typing import Any

from django.db import connections


def conninfo(alias: str = "default") -> str:
    """The database `alias`'s libpq connection string (name, user, password, host, port and
    the plain string or number OPTIONS such as `sslmode`)."""
    from psycopg.conninfo import make_conninfo

    db = connections[alias].settings_dict
    params: dict[str, Any] = {
        "dbname": db.get("NAME"),
        "user": db.get("USER"),
        "password": db.get("PASSWORD"),
        "host": db.get("HOST"),
        "port": db.get("PORT"),
    }
    for key, value in (db.get("OPTIONS") or {}).items():
        if isinstance(value, str | int) and not isinstance(value, bool):
            params[key] = value
    return make_conninfo(**{k: v for k, v in params.items() if v not in (None, "")})
