"""This domain's rows of the authorization matrix (core/tests/test_authorization_matrix.py).

Bank A's integration module: the center's three roles and bank A's head see it; bank B's head
holds integration:view, so it gets 404 ("not yours" looks like "missing"); makers and viewers
hold no integration permission (403). Only the center administrator manages modules.

The certificate rows post an unreadable CSR, which is refused (422) before the CA is looked
up, so the rows do not depend on whether a CA exists on the machine running the tests."""

from typing import Any

from aips.core.tests.matrix import CENTER, Row, only, statuses

VIEWERS = (*CENTER, "bank_a_head", "bank_b_head")
VIEWERS_A = (*CENTER, "bank_a_head")
ADMIN = ("center_admin",)
MODULE = lambda o: {"pk": o["integration_module"].pk}  # noqa: E731
API_MODULE = lambda o: {"module_id": o["integration_module"].pk}  # noqa: E731
BAD_CSR = "-----BEGIN CERTIFICATE REQUEST-----\nnot base64\n-----END CERTIFICATE REQUEST-----"


def matrix_objects(personas: dict[str, Any]) -> dict[str, Any]:
    """Bank A's objects of this domain that the matrix requests as every persona."""
    from aips.center.signals.tests.conftest import make_module

    module, _token = make_module(personas["bank_a_head"].organization, name="matrix-agent")
    return {"integration_module": module}


ROWS: list[Row] = [
    # --- web UI --------------------------------------------------------------------------
    Row("integrations:list", "GET", only(200, VIEWERS)),
    Row("integrations:ca", "GET", only(200, VIEWERS)),
    Row("integrations:create", "GET", only(200, ADMIN)),
    # An empty form: the administrator gets it back with errors.
    Row("integrations:create", "POST", only(422, ADMIN), data={"name": "", "kind": "agent"}),
    Row("integrations:detail", "GET", only(200, VIEWERS_A, bank_b_head=404), kwargs=MODULE),
    Row("integrations:update", "GET", only(200, ADMIN), kwargs=MODULE),
    Row(
        "integrations:update",
        "POST",
        only(302, ADMIN),
        kwargs=MODULE,
        data={"name": "matrix-agent-2", "description": ""},
    ),
    Row("integrations:token", "POST", only(200, ADMIN), kwargs=MODULE),
    Row("integrations:certificate", "GET", only(200, ADMIN), kwargs=MODULE),
    Row(
        "integrations:certificate",
        "POST",
        only(422, ADMIN),
        kwargs=MODULE,
        data={"csr": "garbage"},
    ),
    Row("integrations:revoke", "GET", only(200, ADMIN), kwargs=MODULE),
    Row(
        "integrations:revoke",
        "POST",
        only(302, ADMIN),
        kwargs=MODULE,
        data={"reason": "decommissioned"},
    ),
    # --- API -----------------------------------------------------------------------------
    Row("api:integrations_list", "GET", only(200, VIEWERS, anon=401), api=True),
    Row("api:integrations_create", "POST", only(422, ADMIN, anon=401), data={}, api=True),
    Row(
        "api:integrations_get",
        "GET",
        only(200, VIEWERS_A, anon=401, bank_b_head=404),
        kwargs=API_MODULE,
        api=True,
    ),
    Row(
        "api:integrations_update",
        "PATCH",
        only(200, ADMIN, anon=401),
        kwargs=API_MODULE,
        data={},
        api=True,
    ),
    Row(
        "api:integrations_token",
        "POST",
        only(200, ADMIN, anon=401),
        kwargs=API_MODULE,
        data={},
        api=True,
    ),
    Row(
        "api:integrations_certificate",
        "POST",
        only(422, ADMIN, anon=401),
        kwargs=API_MODULE,
        data={"csr": BAD_CSR},
        api=True,
    ),
    Row(
        "api:integrations_revoke",
        "POST",
        only(200, ADMIN, anon=401),
        kwargs=API_MODULE,
        data={"reason": "decommissioned"},
        api=True,
    ),
    # People never authenticate here: only a module's token or certificate does.
    Row(
        "api:integrations_heartbeat",
        "POST",
        statuses(401),
        data={"version": "1.0.0"},
        api=True,
    ),
]
