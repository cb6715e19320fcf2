"""This domain's rows of the authorization matrix (core/tests/test_authorization_matrix.py)."""

from typing import Any

from aips.core.tests.matrix import Row


def matrix_objects(personas: dict[str, Any]) -> dict[str, Any]:
    """Bank A's objects of this domain that the matrix requests as every persona."""
    return {}


ROWS: list[Row] = []
