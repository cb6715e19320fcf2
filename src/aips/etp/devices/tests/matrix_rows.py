"""The devices' rows of the ETP's authorization matrix (R57.5, R57.28.3). The mobile operations
serve only the registered app: the matrix's clients send no `X-Client-Id`, so every persona gets
403 `client_unknown` before any authentication (tests/test_mobile_api.py proves the app's side).
Participant 1's device is participant 1's: the other participants get 404; the operator and the
sellers hold no device permission (403)."""

from typing import Any

from aips.etp.tests.matrix import PARTICIPANTS, Row, only, statuses

P1 = "participant_person_1"
OTHERS_404 = {"participant_person_2": 404, "participant_company_1_rep": 404}


def mine(o: dict[str, Any]) -> dict[str, Any]:
    return {"device_id": o["mobile_device"].pk}


ROWS: list[Row] = [
    Row("api:mobile_challenge", "GET", statuses(403), api=True),
    Row("api:mobile_biometrics_start", "POST", statuses(403), data={}, api=True),
    Row("api:mobile_devices_register", "POST", statuses(403), data={}, api=True),
    Row("api:mobile_sessions_open", "POST", statuses(403), data={}, api=True),
    Row("api:mobile_status", "GET", statuses(403), api=True),
    Row("api:mobile_sessions_close", "DELETE", statuses(403), api=True),
    Row("etp_devices:list", "GET", only(200, PARTICIPANTS)),
    Row(
        "etp_devices:revoke",
        "POST",
        only(302, (P1,), **OTHERS_404),
        kwargs=lambda o: {"pk": o["mobile_device"].pk},
    ),
    Row("api:devices_list", "GET", only(200, PARTICIPANTS, anon=401), api=True),
    Row(
        "api:devices_revoke",
        "POST",
        only(200, (P1,), anon=401, **OTHERS_404),
        kwargs=mine,
        api=True,
    ),
]
