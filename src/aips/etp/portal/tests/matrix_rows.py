"""The portal's rows of the ETP's authorization matrix (etp/tests/test_authorization_matrix.py):
the catalogue is public, the workspace and `GET /api/v1/me` are everyone's who is signed in."""

from aips.etp.tests.matrix import Row, statuses

ROWS: list[Row] = [
    Row("etp_portal:catalogue", "GET", statuses(200)),
    Row("etp_portal:workspace", "GET", statuses(200, anon=302)),
    Row("api:me", "GET", statuses(200, anon=401), api=True),
]
