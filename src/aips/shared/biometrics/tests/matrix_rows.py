"""This domain's rows of the authorization matrix (core/tests/test_authorization_matrix.py).

The start pages belong to whoever is in the middle of something: the person between password
and second factor (sign-in), a signed-in person (password change, IIN binding) or the holder of
an invitation. Without that, they send the browser back (302) or answer 404. The session page
and the fake provider's page answer 404 to anyone for a session that is not theirs or does not
exist; the webhook refuses an unsigned call (401) whoever makes it."""

from aips.core.tests.matrix import Row, statuses

NO_SESSION = "00000000-0000-4000-8000-000000000000"

ROWS: list[Row] = [
    # No password step in this browser: back to the sign-in page.
    Row("biometrics:sign_in_start", "POST", statuses(302)),
    # The demo people have no IIN bound yet: back to the password page with the reason.
    Row("biometrics:password_start", "POST", statuses(302)),
    Row("biometrics:bind", "GET", statuses(200, anon=302)),
    Row("biometrics:invite", "GET", statuses(404), kwargs=lambda o: {"token": "no-such-token"}),
    Row("biometrics:session", "GET", statuses(404), kwargs=lambda o: {"public_id": NO_SESSION}),
    Row(
        "biometrics:fake",
        "GET",
        statuses(404),
        kwargs=lambda o: {"provider_session_id": "fake-no-such-session"},
    ),
    Row(
        "api:biometrics_webhook",
        "POST",
        statuses(401),
        kwargs=lambda o: {"provider": "fake"},
        data={},
        api=True,
    ),
]
