"""The ETP's authorization matrix vocabulary: its personas and the status tables (the `Row` is
AIPS's, core/tests/matrix.py). Every ETP app adds its rows in its `tests/matrix_rows.py`, with
the objects it needs in aips/etp/conftest.py (`_build_matrix_objects`)."""

from aips.core.tests.matrix import Row

__all__ = [
    "OPERATOR",
    "PARTICIPANTS",
    "PERSONAS",
    "SELLER_A",
    "SELLER_B",
    "Row",
    "only",
    "statuses",
]

PERSONAS = [
    "anon",
    "operator_admin",
    "operator_verifier",
    "operator_admission",
    "operator_auditor",
    "seller_a_maker",
    "seller_a_signatory",
    "seller_b_maker",
    "seller_b_signatory",
    "participant_person_1",
    "participant_person_2",
    "participant_company_1_rep",
]
OPERATOR = ("operator_admin", "operator_verifier", "operator_admission", "operator_auditor")
SELLER_A = ("seller_a_maker", "seller_a_signatory")
SELLER_B = ("seller_b_maker", "seller_b_signatory")
PARTICIPANTS = ("participant_person_1", "participant_person_2", "participant_company_1_rep")


def statuses(default: int, **overrides: int) -> dict[str, int]:
    table = dict.fromkeys(PERSONAS, default)
    table.update(overrides)
    return table


def only(
    ok: int, who: tuple[str, ...], *, other: int = 403, anon: int = 302, **extra: int
) -> dict[str, int]:
    table = statuses(other, anon=anon)
    for persona in who:
        table[persona] = ok
    table.update(extra)
    return table
