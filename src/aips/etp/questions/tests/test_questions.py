"""Questions on lots and complaints to the operator: the ask → answer flow and its public page,
deadlines on the working-day calendar, overdue marks, the asker's and complainant's anonymity,
who sees which complaint (404 for another participant's unpublished one) and 403 for a role
without the permission."""

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from aips.core.errors import Forbidden, NotFound
from aips.etp.lots.models import Lot, LotState
from aips.etp.questions import services
from aips.etp.questions.models import Complaint, Question
from aips.shared.accounts.models import User
from aips.shared.audit.models import AuditEvent
from aips.shared.notifications.models import Notification
from aips.shared.workdays.calendar import ALMATY, local_date
from aips.shared.workdays.models import MovedDay, MovedDayKind

Personas = dict[str, User]
ClientAs = Callable[[str | None], Client]


def _lot(personas: Personas) -> Lot:
    lot: Lot = Lot.objects.get(
        organization_id=personas["seller_a_maker"].organization_id,
        state=LotState.PUBLISHED,
        kind="claim",
    )
    return lot


@pytest.mark.django_db
def test_question_ask_answer_and_public_page_without_the_asker(
    personas: Personas, client_as: ClientAs
) -> None:
    lot = _lot(personas)
    asker = personas["participant_person_1"]
    participant = client_as("participant_person_1")
    page = participant.get(f"/lots/{lot.pk}/")
    assert b'id="questions"' in page.content
    assert f'action="/lots/{lot.pk}/questions/"'.encode() in page.content
    response = participant.post(f"/lots/{lot.pk}/questions/", {"text": "Is the court case open?"})
    assert response.status_code == 302
    question = Question.objects.get(lot=lot)
    assert question.organization_id == asker.organization_id
    assert AuditEvent.objects.filter(event="question:asked", target_id=str(question.pk)).exists()
    assert Notification.objects.filter(
        user=personas["seller_a_signatory"], kind="etp.question.asked"
    ).exists()
    # Not answered yet: not public.
    assert b"Is the court case open?" not in client_as(None).get(f"/lots/{lot.pk}/").content

    seller = client_as("seller_a_maker")
    assert b"Is the court case open?" in seller.get("/manage/questions/").content
    # Seller B does not see it and cannot answer it.
    assert (
        b"Is the court case open?"
        not in client_as("seller_b_maker").get("/manage/questions/").content
    )
    assert (
        client_as("seller_b_maker")
        .post(f"/manage/questions/{question.pk}/answer/", {"answer": "x"})
        .status_code
        == 404
    )
    response = seller.post(f"/manage/questions/{question.pk}/answer/", {"answer": "No, closed."})
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.answer == "No, closed."
    assert question.answered_by == personas["seller_a_maker"]
    assert Notification.objects.filter(user=asker, kind="etp.question.answered").exists()

    public = client_as(None).get(f"/lots/{lot.pk}/").content.decode()
    assert "Is the court case open?" in public
    assert "No, closed." in public
    assert "Participant" in public
    for private in (asker.email, asker.surname, asker.organization.name):
        assert private
        assert private not in public
    # A second answer is refused.
    with pytest.raises(Exception, match="already answered"):
        services.question_answer(
            actor=personas["operator_verifier"], question_id=question.pk, answer="again"
        )


@pytest.mark.django_db
def test_question_on_an_unpublished_lot_is_refused(personas: Personas) -> None:
    draft = Lot.objects.filter(state=LotState.DRAFT).first()
    assert draft is not None
    with pytest.raises(NotFound):
        services.question_ask(actor=personas["participant_person_1"], lot_id=draft.pk, text="?")


@pytest.mark.django_db
def test_deadlines_count_working_days_over_a_weekend_and_a_day_off(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Friday 5 February 2027; Monday the 8th declared a day off: two working days end on
    # Wednesday the 10th, five on Monday the 15th.
    MovedDay.objects.create(date=date(2027, 2, 8), kind=MovedDayKind.DAY_OFF, note="test")
    friday = datetime(2027, 2, 5, 10, 0, tzinfo=ALMATY)
    monkeypatch.setattr(timezone, "now", lambda: friday)
    lot = _lot(personas)
    question = services.question_ask(
        actor=personas["participant_person_1"], lot_id=lot.pk, text="When?"
    )
    assert local_date(question.due_at) == date(2027, 2, 10)
    complaint = services.complaint_file(
        actor=personas["participant_person_1"], lot_id=lot.pk, text="Unfair."
    )
    assert local_date(complaint.due_at) == date(2027, 2, 15)


@pytest.mark.django_db
def test_overdue_questions_and_complaints_are_marked(
    personas: Personas, client_as: ClientAs
) -> None:
    lot = _lot(personas)
    question = services.question_ask(
        actor=personas["participant_person_1"], lot_id=lot.pk, text="Late?"
    )
    complaint = services.complaint_file(actor=personas["participant_person_1"], text="Late.")
    past = timezone.now() - timedelta(days=1)
    Question.objects.filter(pk=question.pk).update(due_at=past)
    Complaint.objects.filter(pk=complaint.pk).update(due_at=past)
    assert b'class="overdue"' in client_as("seller_a_signatory").get("/manage/questions/").content
    assert b"Overdue" in client_as("operator_verifier").get("/manage/questions/").content
    assert b"Overdue" in client_as("operator_complaints").get("/manage/complaints/").content
    # Answered in time: no mark.
    services.question_answer(actor=personas["seller_a_maker"], question_id=question.pk, answer="a")
    assert b"Overdue" not in client_as("seller_a_maker").get("/manage/questions/").content


@pytest.mark.django_db
def test_complaints_isolation_answer_and_publication(
    personas: Personas, client_as: ClientAs
) -> None:
    lot = _lot(personas)
    filer = personas["participant_person_1"]
    evidence = SimpleUploadedFile("evidence.pdf", b"%PDF evidence")
    response = client_as("participant_person_1").post(
        "/manage/complaints/new/",
        {"lot": lot.pk, "text": "The lot's photos are wrong.", "file": evidence},
    )
    assert response.status_code == 302
    complaint = Complaint.objects.get(organization_id=filer.organization_id)
    url = f"/manage/complaints/{complaint.pk}/"
    assert client_as("participant_person_1").get(url).status_code == 200
    assert client_as("participant_person_2").get(url).status_code == 404
    assert client_as("participant_company_1_rep").get(url).status_code == 404
    assert client_as("seller_b_maker").get(url).status_code == 404
    assert client_as("seller_a_maker").get(url).status_code == 200  # about its lot
    stored = complaint.files.get()
    file_url = f"{url}files/{stored.pk}/"
    download = client_as("participant_person_1").get(file_url)
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert client_as("participant_person_2").get(file_url).status_code == 404
    assert AuditEvent.objects.filter(event="complaint:file_downloaded").exists()
    assert b"photos are wrong" not in client_as(None).get("/complaints/").content
    assert (
        b"photos are wrong"
        not in client_as("participant_person_2").get("/manage/complaints/").content
    )
    assert Notification.objects.filter(
        user=personas["operator_complaints"], kind="etp.complaint.filed"
    ).exists()

    with pytest.raises(Forbidden):
        services.complaint_answer(
            actor=personas["seller_a_signatory"],
            complaint_id=complaint.pk,
            outcome="rejected",
            answer="no",
        )
    officer = client_as("operator_complaints")
    response = officer.post(
        f"{url}answer/", {"outcome": "upheld", "answer": "The photos are replaced."}
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.outcome == "upheld"
    assert complaint.answered_at is not None
    assert AuditEvent.objects.filter(event="complaint:answered").exists()
    assert Notification.objects.filter(user=filer, kind="etp.complaint.answered").exists()

    public = client_as(None).get("/complaints/").content.decode()
    assert "photos are wrong" in public
    assert "The photos are replaced." in public
    assert "Upheld" in public
    assert "Participant" in public
    for private in (filer.email, filer.surname, filer.organization.name):
        assert private
        assert private not in public
    # Published, yet the working page stays the complainant's (and the seller's) only.
    assert client_as("participant_person_2").get(url).status_code == 404


@pytest.mark.django_db
def test_wrong_roles_get_403(client_as: ClientAs, personas: Personas) -> None:
    lot = _lot(personas)
    assert client_as("operator_admin").get("/manage/questions/").status_code == 403
    assert client_as("seller_a_maker").get("/manage/complaints/new/").status_code == 403
    assert (
        client_as("seller_a_maker").post(f"/lots/{lot.pk}/questions/", {"text": "?"}).status_code
        == 403
    )
    assert (
        client_as("participant_person_1")
        .post("/manage/questions/1/answer/", {"answer": "x"})
        .status_code
        == 403
    )
    with pytest.raises(Forbidden):
        services.question_ask(actor=personas["seller_b_maker"], lot_id=lot.pk, text="?")


@pytest.mark.django_db
def test_public_api_shows_answered_questions_and_complaints_anonymously(
    personas: Personas, client_as: ClientAs
) -> None:
    lot = _lot(personas)
    asker = personas["participant_person_1"]
    question = services.question_ask(actor=asker, lot_id=lot.pk, text="Open?")
    complaint = services.complaint_file(actor=asker, text="Unfair procedure.")
    anon = client_as(None)
    assert anon.get(f"/api/v1/public/lots/{lot.pk}/questions").json() == []
    assert anon.get("/api/v1/public/complaints").json() == []
    services.question_answer(
        actor=personas["seller_a_signatory"], question_id=question.pk, answer="Yes"
    )
    services.complaint_answer(
        actor=personas["operator_complaints"],
        complaint_id=complaint.pk,
        outcome="rejected",
        answer="The procedure was followed.",
    )
    questions = anon.get(f"/api/v1/public/lots/{lot.pk}/questions").json()
    assert [q["answer"] for q in questions] == ["Yes"]
    body = anon.get("/api/v1/public/complaints").content.decode()
    assert "The procedure was followed." in body
    assert asker.email not in body
    assert asker.surname not in body


@pytest.mark.django_db
def test_questions_close_at_the_application_deadline(
    personas: Personas, client_as: ClientAs, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aips.etp.applications import clock
    from aips.etp.applications import services as applications
    from aips.etp.questions.selectors import questions_closed_at

    now = {"at": timezone.now()}
    monkeypatch.setattr(clock, "now", lambda: now["at"])
    lot = _lot(personas)
    asker = personas["participant_person_1"]
    participant = client_as("participant_person_1")
    # No procedure yet: questions are open.
    assert questions_closed_at(lot.pk) is None
    deadline = now["at"] + timedelta(days=3)
    applications.procedure_announce(
        actor=personas["operator_auctioneer"],
        lot=lot,
        application_deadline=deadline,
        auction_start=deadline + timedelta(days=2),
    )
    services.question_ask(actor=asker, lot_id=lot.pk, text="Before the deadline?")
    assert f'action="/lots/{lot.pk}/questions/"' in participant.get(f"/lots/{lot.pk}/").text
    # At the deadline (the server's clock) questions close.
    now["at"] = deadline
    assert questions_closed_at(lot.pk) == deadline
    with pytest.raises(services.QuestionsClosed) as refused:
        services.question_ask(actor=asker, lot_id=lot.pk, text="Too late?")
    assert refused.value.status == 409
    assert refused.value.code == "questions_closed"
    now["at"] = deadline + timedelta(minutes=1)
    response = participant.post(f"/lots/{lot.pk}/questions/", {"text": "Too late?"})
    assert response.status_code == 409
    assert 'data-code="questions_closed"' in response.text
    assert "closed on" in response.text
    assert not Question.objects.filter(text="Too late?").exists()
    assert Question.objects.filter(lot=lot).count() == 1
    # The lot's page offers no form: it says when questions closed, to everyone.
    local = deadline.astimezone(ALMATY).strftime("%d.%m.%Y %H:%M")
    for who in ("participant_person_1", None):
        page = client_as(who).get(f"/lots/{lot.pk}/").text
        assert 'id="questions-closed"' in page
        assert f"Questions closed on {local}" in page
        assert f'action="/lots/{lot.pk}/questions/"' not in page
    # Answers still come after the close.
    question = Question.objects.get(lot=lot)
    services.question_answer(
        actor=personas["seller_a_maker"], question_id=question.pk, answer="Yes."
    )
