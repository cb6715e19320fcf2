"""The participants' rows of the ETP's authorization matrix: registration is public (a signed-in
person is sent to their workspace); a participant edits only their own profile; a profile is read
by its participant and the operator's admission officer and auditor, 404 for other participants.
An e-mail confirmation link is public (an unknown one 404 for everyone); asking for a new one is a
participant's."""

from aips.etp.tests.matrix import Row, only, statuses

PROFILE_READERS = ("participant_person_1", "operator_admission", "operator_auditor")
PARTICIPANTS = ("participant_person_1", "participant_person_2", "participant_company_1_rep")

ROWS: list[Row] = [
    Row("etp_participants:register", "GET", statuses(302, anon=200)),
    Row("etp_participants:register_biometrics", "GET", statuses(302, anon=200)),
    Row("etp_participants:profile", "GET", only(200, PARTICIPANTS)),
    Row(
        "etp_participants:email_confirm",
        "GET",
        statuses(404),
        kwargs=lambda o: {"token": "not-a-link"},
    ),
    Row("etp_participants:email_confirm_resend", "POST", only(302, PARTICIPANTS)),
    Row(
        "etp_participants:detail",
        "GET",
        only(200, PROFILE_READERS, participant_person_2=404, participant_company_1_rep=404),
        kwargs=lambda o: {"pk": o["participant_profile"].pk},
    ),
]
