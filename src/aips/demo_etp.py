"""The ETP's demo data: the operator with a person in each of its roles, two selling banks with
a lot preparer and an authorised signatory each, two individual participants and a collection
agency's representative. `make run` loads it once (`etp demo load`); the ETP's test personas
are the same people. The operator's staff and the sellers sign in with a password and a TOTP
code whose secret is printed (derived from the e-mail, so it stays valid across reloads). The
participants' organizations require EDS or biometrics at every sign-in (R57.10), as a
registration makes them: each participant's IIN is bound to the account, and they sign in with
the password and then biometrics (on a local run the fake provider: "Pass"); they have no TOTP."""

import base64
import hashlib
from dataclasses import dataclass
from typing import Any, TextIO

from django.db import transaction
from django.utils import timezone

from aips.core.actors import SystemActor
from aips.shared.accounts import services as account_services
from aips.shared.accounts.models import IdentityProof, User
from aips.shared.audit.models import EventType
from aips.shared.audit.services import record
from aips.shared.mfa import services as mfa_services
from aips.shared.organizations import services as org_services
from aips.shared.organizations.models import Organization

OPERATOR_BIN = "070340000012"
SELLER_A_BIN = "990140000017"  # the same banks as in AIPS's demo: sellers use both systems
SELLER_B_BIN = "991240000013"
PERSON_1_IIN = "850101300124"
PERSON_2_IIN = "900215400340"
COMPANY_1_BIN = "190940000059"
COMPANY_1_REP_IIN = "780505300125"  # the collection agency's director
# The participants' IINs, bound to their accounts: their organizations require EDS or biometrics
# at every sign-in (R57.10), and both identify the person by the bound IIN.
PARTICIPANT_IINS = {
    "participant_person_1": PERSON_1_IIN,
    "participant_person_2": PERSON_2_IIN,
    "participant_company_1_rep": COMPANY_1_REP_IIN,
}
PARTICIPANT_KINDS = frozenset({"participant_individual", "participant_legal"})


@dataclass(frozen=True)
class DemoOrg:
    key: str
    bin: str  # an individual participant's organization of one holds the person's IIN
    kind: str
    name: str
    name_kk: str
    name_ru: str
    name_en: str
    email: str


@dataclass(frozen=True)
class DemoUser:
    key: str
    org: str
    email: str
    password: str
    role: str
    surname: str
    given_name: str
    position: str
    phone: str
    language: str


ORGS = [
    DemoOrg(
        "operator",
        OPERATOR_BIN,
        "operator",
        'JSC "Electronic Trading Platform"',
        "«Электрондық сауда алаңы» АҚ",
        "АО «Электронная торговая площадка»",
        "Electronic Trading Platform JSC",
        "operator@etp.example.kz",
    ),
    DemoOrg(
        "seller_a",
        SELLER_A_BIN,
        "bank",
        'JSC "Alatau Bank"',
        "«Алатау Банк» АҚ",
        "АО «Алатау Банк»",
        "Alatau Bank JSC",
        "assets@alataubank.example.kz",
    ),
    DemoOrg(
        "seller_b",
        SELLER_B_BIN,
        "bank",
        'JSC "Saryarka Bank"',
        "«Сарыарқа Банк» АҚ",
        "АО «Сарыарка Банк»",
        "Saryarka Bank JSC",
        "assets@saryarkabank.example.kz",
    ),
    DemoOrg(
        "person_1",
        PERSON_1_IIN,
        "participant_individual",
        "Serikbayev Askar",
        "Серікбаев Асқар",
        "Серикбаев Аскар",
        "Serikbayev Askar",
        "askar.serikbayev@mail.example.kz",
    ),
    DemoOrg(
        "person_2",
        PERSON_2_IIN,
        "participant_individual",
        "Zhunusova Aliya",
        "Жүнісова Әлия",
        "Жунусова Алия",
        "Zhunusova Aliya",
        "aliya.zhunusova@mail.example.kz",
    ),
    DemoOrg(
        "company_1",
        COMPANY_1_BIN,
        "participant_legal",
        'LLP "Qarz Collection"',
        "«Qarz Collection» ЖШС",
        "ТОО «Qarz Collection»",
        "Qarz Collection LLP",
        "office@qarzcollection.example.kz",
    ),
]

USERS = [
    DemoUser("operator_admin", "operator", "admin@etp.example.kz", "Etp-Admin-2026",
             "operator_admin", "Mukhamedzhanov", "Ruslan", "Head of platform operations",
             "+7 701 500 00 01", "ru"),
    DemoUser("operator_verifier", "operator", "verifier@etp.example.kz", "Etp-Verifier-2026",
             "operator_verifier", "Abenova", "Gulnara", "Lot verification specialist",
             "+7 701 500 00 02", "kk"),
    DemoUser("operator_admission", "operator", "admission@etp.example.kz", "Etp-Admission-2026",
             "operator_admission", "Petrov", "Sergei", "Admission and deposits specialist",
             "+7 701 500 00 03", "ru"),
    DemoUser("operator_auctioneer", "operator", "auctioneer@etp.example.kz",
             "Etp-Auctioneer-2026", "operator_auctioneer", "Dzhaksybekov", "Marat",
             "Auction manager", "+7 701 500 00 04", "ru"),
    DemoUser("operator_complaints", "operator", "complaints@etp.example.kz",
             "Etp-Complaints-2026", "operator_complaints", "Iskakova", "Saule",
             "Complaints officer", "+7 701 500 00 05", "kk"),
    DemoUser("operator_auditor", "operator", "auditor@etp.example.kz", "Etp-Auditor-2026",
             "operator_auditor", "Lee", "Anna", "Internal auditor", "+7 701 500 00 06", "en"),
    DemoUser("seller_a_maker", "seller_a", "lots@alataubank.example.kz", "Alatau-Lots-2026",
             "seller_maker", "Baimukhanov", "Timur", "Distressed assets manager",
             "8 702 600 00 01", "ru"),
    DemoUser("seller_a_signatory", "seller_a", "signatory@alataubank.example.kz",
             "Alatau-Signatory-2026", "seller_signatory", "Kassymova", "Zhanar",
             "Deputy chair of the board", "8 702 600 00 02", "ru"),
    DemoUser("seller_b_maker", "seller_b", "lots@saryarkabank.example.kz", "Saryarka-Lots-2026",
             "seller_maker", "Orlov", "Denis", "Problem loans specialist",
             "8 705 700 00 01", "ru"),
    DemoUser("seller_b_signatory", "seller_b", "signatory@saryarkabank.example.kz",
             "Saryarka-Signatory-2026", "seller_signatory", "Nurpeisova", "Dinara",
             "Managing director", "8 705 700 00 02", "kk"),
    DemoUser("participant_person_1", "person_1", "askar.serikbayev@mail.example.kz",
             "Askar-Bidder-2026", "participant", "Serikbayev", "Askar", "Individual investor",
             "8 707 800 00 01", "kk"),
    DemoUser("participant_person_2", "person_2", "aliya.zhunusova@mail.example.kz",
             "Aliya-Bidder-2026", "participant", "Zhunusova", "Aliya", "Individual investor",
             "8 707 800 00 02", "ru"),
    DemoUser("participant_company_1_rep", "company_1", "director@qarzcollection.example.kz",
             "Qarz-Director-2026", "participant", "Temirkhanov", "Bolat", "Director",
             "8 707 900 00 01", "ru"),
]  # fmt: skip


@transaction.atomic
def load_demo() -> dict[str, User]:
    """Create the demo data unless it is there already; returns the users by persona key."""
    actor = SystemActor(label="demo-loader")
    orgs: dict[str, Organization] = {}
    for spec in ORGS:
        strong = spec.kind in PARTICIPANT_KINDS
        existing = Organization.objects.filter(bin=spec.bin).first()
        if existing is not None and strong and not existing.strong_auth_required:
            # A demo loaded before participants had to use EDS or biometrics.
            existing = org_services.organization_update(
                actor=actor, organization=existing, strong_auth_required=True
            )
        orgs[spec.key] = existing or org_services.organization_create(
            actor=actor,
            name=spec.name,
            name_kk=spec.name_kk,
            name_ru=spec.name_ru,
            name_en=spec.name_en,
            bin=spec.bin,
            email=spec.email,
            kind=spec.kind,
            strong_auth_required=strong,
        )
    users: dict[str, User] = {}
    for person in USERS:
        user = User.objects.filter(email=person.email).first()
        if user is None:
            user = account_services.user_create(
                actor=actor,
                email=person.email,
                surname=person.surname,
                given_name=person.given_name,
                patronymic="",
                position=person.position,
                organization_id=orgs[person.org].pk,
                phones=[person.phone],
                role=person.role,
                language=person.language,
            )
            account_services.user_set_initial_password(
                actor=actor, user=user, password=person.password
            )
        if person.key in PARTICIPANT_IINS:
            _bind_demo_iin(actor, user, PARTICIPANT_IINS[person.key])
        else:
            mfa_services.totp_install_known_key(
                actor=actor, user=user, key_hex=demo_totp_key(person.email)
            )
        users[person.key] = user
    _load_demo_lots(users)
    return users


def _bind_demo_iin(actor: SystemActor, user: User, iin: str) -> None:
    """The participant's IIN, bound as a registration by biometrics binds it (demo data: no
    check ran), journaled like a binding."""
    if user.iin:
        return
    user.iin, user.iin_bound_at, user.iin_bound_by = iin, timezone.now(), IdentityProof.BIOMETRICS
    user.save(update_fields=["iin", "iin_bound_at", "iin_bound_by", "updated_at"])
    record(
        actor=actor,
        event=EventType.IIN_BOUND,
        target=user,
        organization_id=user.organization_id,
        details={"via": "demo"},
    )


# The demo debtors (invented people): their IINs and names must never reach a public page.
DEMO_DEBTORS = {
    "750312400107": "Seitkali Aidos Nurlanovich",
    "801122500204": "Omarova Dana Serikovna",
    "680705300308": "Kim Viktor Pavlovich",
    "920401600407": "Tulegenova Aigerim Maratovna",
    "710202400508": "Abenov Erlan Tokenovich",
    "880808500601": "Li Marina Sergeevna",
    "990840000101": 'LLP "Demo Debtor Trade"',
}
DEMO_GUARANTORS = {"600101400704": "Seitkali Nurlan Abaevich", "951212600804": ""}
DEMO_TAPE = (
    "loan_id,borrower_iin,borrower_name,guarantor_iins,region,principal,interest,penalties,"
    "days_overdue\n"
    "L-1,801122500204,Omarova Dana Serikovna,,Almaty,850000,120000,35000,210\n"
    "L-2,680705300308,Kim Viktor Pavlovich,600101400704,Almaty,1200000,300000,80000,400\n"
    "L-3,920401600407,Tulegenova Aigerim Maratovna,,Astana,450000,60000,10000,150\n"
    "L-4,710202400508,Abenov Erlan Tokenovich,,Karaganda region,2300000,410000,95000,730\n"
    "L-5,880808500601,Li Marina Sergeevna,951212600804,Astana,600000,90000,20000,365\n"
)


# A 1×1 PNG: the demo's photos only need to be real image files.
_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def _demo_photo(name: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, _PNG, "image/png")


def _load_demo_lots(users: dict[str, User]) -> None:
    """Several lots per seller in different states, one of them a portfolio with its tape; made
    once (a seller that has lots keeps them)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from aips.etp.lots import services as lots
    from aips.etp.lots.models import Lot

    a_maker, a_head = users["seller_a_maker"], users["seller_a_signatory"]
    b_maker, b_head = users["seller_b_maker"], users["seller_b_signatory"]
    verifier = users["operator_verifier"]
    if Lot.objects.filter(organization_id=a_maker.organization_id).exists():
        return

    def publish(lot: Lot, maker: User, head: User) -> Lot:
        lots.lot_submit(actor=maker, lot=lot)
        lots.lot_approve(actor=head, lot=lot)
        return lots.lot_verify(actor=verifier, lot=lot)

    claim = lots.lot_create(
        actor=a_maker,
        kind="claim",
        title="Consumer loan, 400 days overdue",
        description="An unsecured consumer loan; the court's judgment is obtained.",
        region="Almaty",
        start_price="900000",
        debtor_type="individual",
        retail=True,
        principal="1500000",
        interest="320000",
        penalties="110000",
        days_overdue=400,
        court_status="judgment",
        agreement_number="CL-2021/0457",
        borrower_identifier="750312400107",
        borrower_name=DEMO_DEBTORS["750312400107"],
        guarantor_identifiers=["600101400704"],
    )
    publish(claim, a_maker, a_head)
    portfolio = lots.lot_create(
        actor=a_maker,
        kind="portfolio",
        title="Portfolio of 5 retail loans, Almaty, Astana, Karaganda",
        region="Several regions",
        start_price="2500000",
        retail=True,
    )
    lots.lot_tape_upload(
        actor=a_maker,
        lot=portfolio,
        upload=SimpleUploadedFile("tape.csv", DEMO_TAPE.encode(), "text/csv"),
    )
    publish(portfolio, a_maker, a_head)
    flat = lots.lot_create(
        actor=a_maker,
        kind="real_estate",
        title="Two-room flat, 54 m², Astana (repossessed)",
        region="Astana",
        start_price="21000000",
        address="Astana, Kabanbay Batyr ave. 11, flat 48",
        area="54.30",
        cadastral_number="21-320-035-123-48",
    )
    lots.lot_file_add(actor=a_maker, lot=flat, upload=_demo_photo("flat.png"), purpose="photo")
    lots.lot_file_add(
        actor=a_maker,
        lot=flat,
        upload=SimpleUploadedFile("valuation.pdf", b"%PDF-1.4 demo valuation report\n"),
        purpose="document",
    )
    lots.lot_submit(actor=a_maker, lot=flat)
    lots.lot_approve(actor=a_head, lot=flat)
    lots.lot_create(
        actor=a_maker,
        kind="vehicle",
        title="Toyota Camry 2018 (collateral)",
        region="Shymkent",
        start_price="7800000",
        make="Toyota Camry",
        vehicle_year=2018,
        vin="JTNB11HK103456789",
    )
    machine = lots.lot_create(
        actor=b_maker,
        kind="equipment",
        title="Bakery line (repossessed equipment)",
        description="A bakery production line, 2015, in working order.",
        region="Karaganda region",
        start_price="12500000",
    )
    lots.lot_file_add(
        actor=b_maker, lot=machine, upload=_demo_photo("bakery-line.png"), purpose="photo"
    )
    publish(machine, b_maker, b_head)
    lots.lot_withdraw(
        actor=b_head, lot=machine, reason="The debtor repaid the loan; the pledge is released."
    )
    company_claim = lots.lot_create(
        actor=b_maker,
        kind="claim",
        title="Working-capital loan to a trading company",
        region="Almaty",
        start_price="40000000",
        debtor_type="legal",
        principal="52000000",
        interest="6100000",
        days_overdue=240,
        court_status="pending",
        agreement_number="KK-2022/118",
        borrower_identifier="990840000101",
        borrower_name=DEMO_DEBTORS["990840000101"],
    )
    lots.lot_submit(actor=b_maker, lot=company_claim)
    lots.lot_approve(actor=b_head, lot=company_claim)
    lots.lot_return(
        actor=verifier,
        lot=company_claim,
        reason="Attach the court's ruling and state the collateral, if any.",
    )


def demo_totp_key(email: str) -> str:
    """A fixed authenticator secret per demo person, so the printed secrets stay valid."""
    return hashlib.sha1(f"etp-demo-totp:{email}".encode(), usedforsecurity=False).hexdigest()


def demo_totp_secret(email: str) -> str:
    return base64.b32encode(bytes.fromhex(demo_totp_key(email))).decode().rstrip("=")


def command(out: TextIO, *, without_month: bool = False) -> None:
    """`etp demo load` (settings_etp.AIPS_DEMO): the data, then the demo sign-ins."""
    load_demo()
    names = {o.key: o.name_en for o in ORGS}
    out.write(
        "ETP demo sign-ins (demo data only; never use these secrets elsewhere).\n"
        "Second factor of the operator's staff and the sellers: add the TOTP secret to an\n"
        "authenticator app, or run  oathtool --totp -b SECRET   (Debian package oathtool).\n"
        "Participants must use EDS or biometrics (R57.10): after the password press\n"
        '"Sign in with biometrics", then "Pass" on the fake provider\'s page (a local run,\n'
        "AIPS_BIOMETRIC_PROVIDER=fake, the default without HTTPS); the IIN shown is theirs.\n"
    )
    out.write(
        f"  {'role':<20} {'organization':<28} {'e-mail':<36} {'password':<24} second factor\n"
    )
    for person in USERS:
        iin = PARTICIPANT_IINS.get(person.key)
        factor = f"biometrics, IIN {iin}" if iin else f"TOTP {demo_totp_secret(person.email)}"
        out.write(
            f"  {person.role:<20} {names[person.org][:28]:<28} {person.email:<36} "
            f"{person.password:<24} {factor}\n"
        )
