"""The demo dataset: the center, two banks and a microfinance organization, with a user in every
role. `make run` loads it once; the test personas are the same people. `make run` also loads a
month of their work (`load_demo_month`: cards, alerts and requests in every state), which the
test world leaves out."""

import base64
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, TextIO
from unittest import mock

from django.db import transaction
from django.utils import timezone

from aips.center.alerts import services as alerts
from aips.center.alerts.models import Alert, AlertRecipient, ThreatType
from aips.center.incidents import services as incidents
from aips.center.incidents.models import IncidentCard
from aips.center.inquiries import services as inquiries
from aips.center.inquiries.models import Inquiry, InquiryThread
from aips.center.integrations import services as integrations
from aips.center.integrations.models import IntegrationModule, ModuleActor
from aips.center.signals import derive as signal_derive
from aips.center.signals import services as signals
from aips.core.actors import SystemActor
from aips.shared.accounts import services as account_services
from aips.shared.accounts.models import User
from aips.shared.mfa import services as mfa_services
from aips.shared.organizations import services as org_services
from aips.shared.organizations.models import Organization
from aips.shared.workdays.calendar import ALMATY, is_working_day, local_date

CENTER_BIN = "000740000014"
BANK_A_BIN = "990140000017"
BANK_B_BIN = "991240000013"
MFO_BIN = "050440000012"


@dataclass(frozen=True)
class DemoOrg:
    key: str
    bin: str
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
    patronymic: str
    position: str
    phone: str
    language: str


ORGS = [
    DemoOrg(
        "center",
        CENTER_BIN,
        "center",
        "Sectoral IS center of the financial market (ARDFM)",
        "Қаржы нарығының салалық ақпараттық қауіпсіздік орталығы (ҚНРДА)",
        "Отраслевой центр ИБ финансового рынка (АРРФР)",
        "Sectoral IS center of the financial market (ARDFM)",
        "soc@aips.example.kz",
    ),
    DemoOrg(
        "bank_a",
        BANK_A_BIN,
        "bank",
        'JSC "Alatau Bank"',
        "«Алатау Банк» АҚ",
        "АО «Алатау Банк»",
        "Alatau Bank JSC",
        "security@alataubank.example.kz",
    ),
    DemoOrg(
        "bank_b",
        BANK_B_BIN,
        "bank",
        'JSC "Saryarka Bank"',
        "«Сарыарқа Банк» АҚ",
        "АО «Сарыарка Банк»",
        "Saryarka Bank JSC",
        "ib@saryarkabank.example.kz",
    ),
    DemoOrg(
        "mfo",
        MFO_BIN,
        "microfinance",
        'LLP "MFO Dala Credit"',
        "«Дала Кредит» МҚҰ ЖШС",
        "ТОО «МФО Дала Кредит»",
        "Dala Credit MFO LLP",
        "it@dalacredit.example.kz",
    ),
]

USERS = [
    DemoUser("center_admin", "center", "admin@aips.example.kz", "Center-Admin-2026",
             "center_admin", "Akhmetov", "Daniyar", "Serikovich", "Head of AIPS operations",
             "+7 701 100 00 01", "ru"),
    DemoUser("center_analyst", "center", "analyst@aips.example.kz", "Center-Analyst-2026",
             "center_analyst", "Nurlanova", "Aigerim", "", "Senior IS analyst",
             "+7 701 100 00 02", "kk"),
    DemoUser("auditor", "center", "auditor@aips.example.kz", "Center-Auditor-2026",
             "auditor", "Ivanova", "Elena", "Petrovna", "Internal auditor",
             "+7 701 100 00 03", "ru"),
    DemoUser("bank_a_head", "bank_a", "head@alataubank.example.kz", "Alatau-Head-2026",
             "org_head", "Suleimenov", "Yerlan", "", "Head of IS department",
             "8 702 200 00 01", "ru"),
    DemoUser("bank_a_maker", "bank_a", "maker@alataubank.example.kz", "Alatau-Maker-2026",
             "org_responsible", "Kim", "Viktor", "", "IS engineer",
             "8 702 200 00 02", "en"),
    DemoUser("bank_a_viewer", "bank_a", "viewer@alataubank.example.kz", "Alatau-Viewer-2026",
             "org_viewer", "Omarova", "Dana", "", "IT risk manager",
             "8 702 200 00 03", "kk"),
    DemoUser("bank_b_head", "bank_b", "head@saryarkabank.example.kz", "Saryarka-Head-2026",
             "org_head", "Bekov", "Arman", "", "CISO",
             "8 705 300 00 01", "ru"),
    DemoUser("bank_b_maker", "bank_b", "maker@saryarkabank.example.kz", "Saryarka-Maker-2026",
             "org_responsible", "Tulegenova", "Madina", "", "SOC analyst",
             "8 705 300 00 02", "ru"),
    DemoUser("mfo_head", "mfo", "head@dalacredit.example.kz", "Dala-Head-2026",
             "org_head", "Sadykov", "Timur", "", "IT and IS director",
             "8 707 400 00 01", "ru"),
]  # fmt: skip


@transaction.atomic
def load_demo() -> dict[str, User]:
    """Create the demo data unless it is there already; returns the users by persona key."""
    actor = SystemActor(label="demo-loader")
    orgs: dict[str, Organization] = {}
    for spec in ORGS:
        existing = Organization.objects.filter(bin=spec.bin).first()
        orgs[spec.key] = existing or org_services.organization_create(
            actor=actor,
            name=spec.name,
            name_kk=spec.name_kk,
            name_ru=spec.name_ru,
            name_en=spec.name_en,
            bin=spec.bin,
            email=spec.email,
            kind=spec.kind,
        )
    users: dict[str, User] = {}
    for person in USERS:
        existing_user = User.objects.filter(email=person.email).first()
        if existing_user is None:
            existing_user = account_services.user_create(
                actor=actor,
                email=person.email,
                surname=person.surname,
                given_name=person.given_name,
                patronymic=person.patronymic,
                position=person.position,
                organization_id=orgs[person.org].pk,
                phones=[person.phone],
                role=person.role,
                language=person.language,
            )
            account_services.user_set_initial_password(
                actor=actor, user=existing_user, password=person.password
            )
        # Also for data from before second factors existed: the printed secrets must work.
        mfa_services.totp_install_known_key(
            actor=actor, user=existing_user, key_hex=demo_totp_key(person.email)
        )
        users[person.key] = existing_user
    return users


def demo_totp_key(email: str) -> str:
    """A fixed authenticator secret per demo person, so the printed secrets stay valid."""
    return hashlib.sha1(f"aips-demo-totp:{email}".encode(), usedforsecurity=False).hexdigest()


def demo_totp_secret(email: str) -> str:
    return base64.b32encode(bytes.fromhex(demo_totp_key(email))).decode().rstrip("=")


def command(out: TextIO, *, without_month: bool = False) -> None:
    """`aips demo load` (settings.AIPS_DEMO): the data, then the demo sign-ins."""
    load_demo()
    load_demo_signals()
    if not without_month:
        made = load_demo_month()
        if made:
            out.write(f"Demo month: {made} cards, alerts and requests.\n")
    names = {o.key: o.name_en for o in ORGS}
    out.write(
        "Demo sign-ins (demo data only; never use these secrets elsewhere).\n"
        "Second factor: add the TOTP secret to an authenticator app, or run\n"
        "  oathtool --totp -b SECRET   (Debian package oathtool)\n"
    )
    out.write(f"  {'role':<16} {'organization':<28} {'e-mail':<34} {'password':<20} TOTP secret\n")
    for person in USERS:
        out.write(
            f"  {person.role:<16} {names[person.org][:28]:<28} {person.email:<34} "
            f"{person.password:<20} {demo_totp_secret(person.email)}\n"
        )


def load_demo_signals() -> int:
    """A registered agent for each demo bank and a day of their signals, so the explorer, the
    histogram and a cross-organization finding have something to show. Only once: a demo bank
    that already has a module is left alone. Returns the number of signals stored."""
    import json
    import random
    import uuid
    from datetime import UTC, datetime, timedelta

    actor = SystemActor(label="demo-loader")
    rng = random.Random(67)  # noqa: S311 - demo data
    now = datetime.now(UTC)
    shared_attacker = "185.220.101.47"  # seen at both banks: the correlation demo
    stored = 0
    for spec in ORGS:
        org = Organization.objects.get(bin=spec.bin)
        if org.is_center or IntegrationModule.objects.filter(organization=org).exists():
            continue
        module = integrations.module_register(actor=actor, organization=org, name="soc-agent-01")
        items = []
        for n in range(120):
            kind = rng.choice(["ids", "ids", "waf", "scan", "brute_force", "phishing"])
            item: dict[str, Any] = {
                "kind": kind,
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "observed_at": (now - timedelta(minutes=rng.randrange(24 * 60))).isoformat(),
                "product": "Suricata" if kind in ("ids", "scan") else "ModSecurity",
                "vendor": "OISF" if kind in ("ids", "scan") else "OWASP",
                "severity": rng.choice(["low", "medium", "high"]),
                "src_ip": shared_attacker if n % 10 == 0 else f"45.{rng.randrange(10, 250)}.{n}.7",
                "dst_ip": "10.20.0.15",
                "dst_port": 443,
                "protocol": "tcp",
                "direction": "external",
                "rule_id": "2024897",
                "rule_name": "ET EXPLOIT Apache log4j RCE Attempt",
            }
            if kind == "waf":
                item |= {"url": "/ib/login?u=%27%20OR%201%3D1", "method": "POST", "status": 403}
            elif kind == "scan":
                item |= {"ports": [22, 80, 443, 3389], "port_count": 4, "target_count": 12}
            elif kind == "brute_force":
                item |= {"target_account": "admin", "attempts": rng.randrange(30, 300)}
            elif kind == "phishing":
                item |= {
                    "sender": "support@kaspi-secure.example",
                    "recipient_count": rng.randrange(2, 40),
                    "subject": "Ваша карта заблокирована",
                    "urls": ["https://kaspi-secure.example/unblock"],
                }
            items.append(item)
        result = signals.signals_ingest(
            actor=ModuleActor(module_id=module.pk, organization_id=org.pk, name=module.name),
            body=json.dumps(items).encode(),
        )
        stored += result.accepted
    # The worker counts sightings and rollups; the demo's are counted before the server starts.
    signal_derive.counts_catch_up(seconds=600)
    return stored


# ---------------------------------------------------------------------------------------------
# The demo month: cards, alerts and requests in every state, so that every demo person's home
# shows their work at once. Not part of the test world (the tests count objects).

# The indicator the demo signals share between the two banks (load_demo_signals): a card, an
# alert and a request mention it too, so search and the indicator page tie them together.
SHARED_ATTACKER = "185.220.101.47"


@contextmanager
def _story_clock(moment: list[datetime]) -> Iterator[None]:
    """Every service reads the time from `timezone.now()` (deadlines, journal entries, model
    timestamps, notifications); while the month is told, it returns the step's moment, so the
    items carry the dates of the story and their deadlines count from them."""

    def story_now() -> datetime:
        return moment[0]

    with mock.patch.object(timezone, "now", story_now):
        yield


class _Story:
    """The steps of the month, told in the order of their moments (so the month's journal
    entries follow each other in time, after the loader's own). `day(k)` is the k-th working day
    before the reference day: today if it is a working day, else the next working day. So a step
    on day(1) with a 1-working-day clock is due today, one on day(3) with a 3-day clock too, and
    older ones are overdue."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        anchor = local_date(now)
        while not is_working_day(anchor):
            anchor += timedelta(days=1)
        self._days = [anchor]
        self._steps: list[tuple[datetime, int, Callable[[], object]]] = []

    def day(self, k: int, hour: int, minute: int = 0) -> datetime:
        while len(self._days) <= k:
            d = self._days[-1] - timedelta(days=1)
            while not is_working_day(d):
                d -= timedelta(days=1)
            self._days.append(d)
        return datetime.combine(self._days[k], time(hour, minute), tzinfo=ALMATY)

    def ago(self, minutes: int) -> datetime:
        return self.now - timedelta(minutes=minutes)

    def at(self, moment: datetime, step: Callable[[], object]) -> None:
        self._steps.append((moment, len(self._steps), step))

    def tell(self) -> None:
        clock = [self.now]
        with _story_clock(clock):
            for moment, _n, step in sorted(self._steps, key=lambda s: (s[0], s[1])):
                clock[0] = moment
                step()


def _card_data(kind: str, title: str, detected: datetime, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": kind,
        "title": title,
        "started_at": detected - timedelta(hours=2),
        "detected_at": detected,
        "affected_systems": "Internet banking front end (ib.example.kz), core banking gateway",
        "impact": "Customer sessions interrupted; no confirmed loss of customer data.",
        "measures": "Source addresses blocked at the perimeter; passwords of affected "
        "accounts reset; monitoring raised.",
        "tlp": "AMBER",
    }
    return data | extra


def _month_done(users: dict[str, User]) -> bool:
    people = [u.pk for u in users.values()]
    return (
        IncidentCard.objects.filter(created_by__in=people).exists()
        or Alert.objects.filter(created_by__in=people).exists()
        or Inquiry.objects.filter(created_by__in=people).exists()
    )


@transaction.atomic
def load_demo_month(*, now: datetime | None = None) -> int:
    """The month before `now` (default: the present) for the demo people, made through the real
    services acting as them. Only once: if any demo person already wrote a card, an alert or a
    request, nothing is added. Returns the number of cards, alerts and requests created."""
    users = {p.key: User.objects.get(email=p.email) for p in USERS}
    if _month_done(users):
        return 0
    orgs = {o.key: Organization.objects.get(bin=o.bin) for o in ORGS}
    story = _Story(now or timezone.now())
    day, ago, at = story.day, story.ago, story.at
    center, a_head, a_maker = users["center_analyst"], users["bank_a_head"], users["bank_a_maker"]
    b_head, b_maker, m_head = users["bank_b_head"], users["bank_b_maker"], users["mfo_head"]
    made: dict[str, Any] = {}

    # Incident cards -------------------------------------------------------------------------
    def card(key: str, by: User, created: datetime, data: dict[str, Any]) -> None:
        def step() -> None:
            made[key] = incidents.card_create(actor=by, **data)

        at(created, step)

    def move(key: str, by: User, moment: datetime, name: str, comment: str = "") -> None:
        at(
            moment,
            lambda: incidents.card_transition(actor=by, card=made[key], name=name, comment=comment),
        )

    card(
        "c_draft",
        a_maker,
        ago(90),
        _card_data(
            "unauthorized_access",
            "Credential stuffing against internet banking",
            ago(240),
            indicators=[SHARED_ATTACKER, "45.133.1.7"],
            attack_source="Tor exit nodes",
            attack_vector="Password spraying on /ib/login",
        ),
    )
    card(
        "c_awaiting",
        a_maker,
        day(1, 15),
        _card_data(
            "malware_infection",
            "Loader on an accounting workstation",
            day(1, 11),
            indicators=["44d88612fea8a8f36de82e1278abb02f", "cdn-update.example.net"],
            affected_systems="One accounting workstation (ACC-WS-014)",
        ),
    )
    move("c_awaiting", a_maker, day(1, 16), "request_approval")
    card(
        "c_submitted",
        a_maker,
        day(2, 10),
        _card_data(
            "denial_of_service",
            "DDoS on the mobile banking API",
            day(2, 8),
            ended_at=day(2, 9, 40),
            downtime_minutes=45,
            indicators=["203.0.113.10", "203.0.113.11"],
            tlp="GREEN",
        ),
    )
    move("c_submitted", a_maker, day(2, 11), "request_approval")
    move("c_submitted", a_head, day(2, 14), "approve")
    # Returned on day(3): the 3-working-day rework clock ends today.
    card(
        "c_returned",
        a_maker,
        day(6, 10),
        _card_data(
            "vulnerability_exploited",
            "Exploitation of the VPN gateway",
            day(6, 8),
            cve_ids=["CVE-2024-3400"],
            affected_systems="Perimeter firewall GlobalProtect portal",
        ),
    )
    move("c_returned", a_maker, day(6, 11), "request_approval")
    move("c_returned", a_head, day(6, 12), "approve")
    move(
        "c_returned",
        center,
        day(3, 11),
        "return",
        "Give the attack vector and the firmware version, and say whether the configuration "
        "was exported.",
    )
    # Returned once, fixed and accepted: two versions to compare.
    card(
        "c_accepted",
        a_maker,
        day(9, 9),
        _card_data(
            "unsanctioned_transfer",
            "Unsanctioned transfers after a SIM swap",
            day(9, 8),
            transfers_count=3,
            transfers_amount_kzt="1850000",
            tlp="AMBER+STRICT",
            affected_systems="Mobile banking, SMS one-time passwords",
        ),
    )
    move("c_accepted", a_maker, day(9, 10), "request_approval")
    move("c_accepted", a_head, day(9, 11), "approve")
    move(
        "c_accepted",
        center,
        day(8, 10),
        "return",
        "State the recipients' banks and whether the transfers were stopped.",
    )
    at(
        day(7, 10),
        lambda: incidents.card_update(
            actor=a_maker,
            card=made["c_accepted"],
            measures="Two of three transfers stopped at the recipients' banks (Saryarka Bank JSC); "
            "SIM-swap check added to the one-time password flow.",
        ),
    )
    move("c_accepted", a_maker, day(7, 11), "request_approval")
    move("c_accepted", a_head, day(7, 12), "approve")
    move("c_accepted", center, day(6, 15), "accept")
    card(
        "c_closed",
        a_maker,
        day(15, 9),
        _card_data(
            "other_outage",
            "Card processing outage after a failed update",
            day(15, 7),
            ended_at=day(15, 8, 50),
            downtime_minutes=110,
            tlp="GREEN",
        ),
    )
    move("c_closed", a_maker, day(15, 10), "request_approval")
    move("c_closed", a_head, day(15, 11), "approve")
    move("c_closed", center, day(14, 10), "accept")
    move("c_closed", center, day(10, 10), "close")
    # Bank B: returned on day(6), so its rework is overdue; one awaits its head; one came today.
    card(
        "c_b_overdue",
        b_maker,
        day(8, 10),
        _card_data(
            "unauthorized_access",
            "Фишинговый сайт, имитирующий интернет-банк",
            day(8, 9),
            indicators=["saryarka-online.example", "https://saryarka-online.example/login"],
            affected_systems="Интернет-банк для физических лиц",
        ),
    )
    move("c_b_overdue", b_maker, day(8, 11), "request_approval")
    move("c_b_overdue", b_head, day(8, 12), "approve")
    move(
        "c_b_overdue",
        center,
        day(6, 10),
        "return",
        "Укажите число пострадавших клиентов и дату блокировки домена.",
    )
    card(
        "c_b_awaiting",
        b_maker,
        day(1, 10),
        _card_data(
            "malware_infection",
            "Шифровальщик на файловом сервере филиала",
            day(1, 8),
            indicators=["e99a18c428cb38d5f260853678922e03"],
            tlp="RED",
        ),
    )
    move("c_b_awaiting", b_maker, day(1, 12), "request_approval")
    card(
        "c_b_today",
        b_maker,
        ago(240),
        _card_data(
            "denial_of_service",
            "DDoS на публичный сайт банка",
            ago(300),
            indicators=[SHARED_ATTACKER],
            tlp="GREEN",
        ),
    )
    move("c_b_today", b_maker, ago(200), "request_approval")
    move("c_b_today", b_head, ago(150), "approve")

    # Alerts ---------------------------------------------------------------------------------
    types = {t.code: t.pk for t in ThreatType.objects.filter(active=True)}

    def alert(key: str, by: User, created: datetime, **data: Any) -> None:
        def step() -> None:
            made[key] = alerts.alert_create(actor=by, **data)

        at(created, step)

    def publish(key: str, moment: datetime, orgs_: list[str] | None = None) -> None:
        ids = [orgs[o].pk for o in orgs_] if orgs_ else None
        at(
            moment,
            lambda: alerts.alert_transition(
                actor=center, alert=made[key], name="publish_direct", organization_ids=ids
            ),
        )

    def alert_move(key: str, by: User, moment: datetime, name: str) -> None:
        at(moment, lambda: alerts.alert_transition(actor=by, alert=made[key], name=name))

    def answer(key: str, org: str, by: User, moment: datetime, how: str, reason: str = "") -> None:
        def step() -> None:
            recipient = AlertRecipient.objects.get(alert=made[key], organization=orgs[org])
            if how == "accept":
                alerts.recipient_accept(actor=by, recipient=recipient)
            elif how == "decline":
                alerts.recipient_decline(actor=by, recipient=recipient, reason=reason)
            else:
                alerts.recipient_processed(actor=by, recipient=recipient)

        at(moment, step)

    threat = {"kind": "threat", "source": "Sectoral IS center (ARDFM)", "level": "high"}
    alert(
        "a_draft",
        center,
        ago(60),
        **threat,
        tlp="CLEAR",
        threat_type_id=types.get("fraud"),
        title="Phishing wave imitating eGov notifications",
        description="SMS and e-mails with links to fake eGov pages ask for card details.",
        recommendations="Warn customers through the app; block the listed domains.",
        indicators=["egov-kz.example", "https://egov-kz.example/pay"],
    )
    alert(
        "a_awaiting",
        a_maker,
        day(1, 14),
        **(threat | {"source": "Alatau Bank SOC"}),
        tlp="GREEN",
        threat_type_id=types.get("intrusion-attempts"),
        title="Credential stuffing from Tor exit nodes",
        description="Login attempts with leaked credentials against internet banking.",
        recommendations="Rate-limit logins per address; require a second factor.",
        indicators=[SHARED_ATTACKER],
    )
    alert_move("a_awaiting", a_maker, day(1, 15), "request_approval")
    vulnerability = {"kind": "vulnerability", "level": "critical", "tlp": "GREEN"}
    alert(
        "a_submitted",
        b_maker,
        day(2, 9),
        **vulnerability,
        source="Saryarka Bank SOC",
        title="Pre-auth RCE in the GlobalProtect portal",
        description="A command injection lets an attacker run code on the firewall.",
        recommendations="Update PAN-OS to a fixed release; check the logs for the pattern.",
        cve_ids=["CVE-2024-3400"],
        known_exploited=True,
        cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
        affected=[
            {
                "vendor": "Palo Alto Networks",
                "product": "PAN-OS",
                "versions": ["10.2", "11.0", "11.1"],
            }
        ],
        references=["https://security.paloaltonetworks.com/CVE-2024-3400"],
    )
    alert_move("a_submitted", b_maker, day(2, 10), "request_approval")
    alert_move("a_submitted", b_head, day(2, 16), "approve")
    alert(
        "a_returned",
        b_maker,
        day(4, 9),
        **(threat | {"source": "Saryarka Bank SOC", "level": "medium"}),
        tlp="GREEN",
        threat_type_id=types.get("fraud"),
        title="Фишинговые письма от имени банка",
        description="Клиентам приходят письма со ссылкой на поддельный интернет-банк.",
        recommendations="Заблокируйте домен; предупредите клиентов.",
        indicators=["saryarka-online.example"],
    )
    alert_move("a_returned", b_maker, day(4, 10), "request_approval")
    alert_move("a_returned", b_head, day(4, 11), "approve")
    at(
        day(2, 15),
        lambda: alerts.alert_transition(
            actor=center,
            alert=made["a_returned"],
            name="return",
            comment="Уберите имена клиентов из описания и добавьте адреса рассылки.",
        ),
    )
    # Published eight working days ago to everyone: accepted and processed, declined, late.
    alert(
        "a_old",
        center,
        day(8, 10),
        **vulnerability,
        source="CERT-KZ",
        title="Out-of-bounds write in the FortiOS SSL-VPN",
        description="An unauthenticated attacker can run code through crafted HTTP requests.",
        recommendations="Update FortiOS or turn the SSL-VPN off until updated.",
        cve_ids=["CVE-2024-21762"],
        known_exploited=True,
        affected=[{"vendor": "Fortinet", "product": "FortiOS", "versions": ["7.0", "7.2"]}],
        references=["https://www.fortiguard.com/psirt/FG-IR-24-015"],
    )
    publish("a_old", day(8, 11))
    answer("a_old", "bank_a", a_head, day(8, 15), "accept")
    answer("a_old", "bank_a", a_maker, day(5, 12), "processed")
    answer(
        "a_old",
        "bank_b",
        b_head,
        day(7, 10),
        "decline",
        "FortiGate is not used in our network; the SSL-VPN is another vendor's.",
    )
    answer("a_old", "mfo", m_head, day(6, 9), "accept")  # after its one working day: late
    # Published four working days ago: bank A must still mark it processed; the MFO never
    # answered (overdue).
    alert(
        "a_rdp",
        center,
        day(4, 9),
        **threat,
        tlp="CLEAR",
        threat_type_id=types.get("intrusion-attempts"),
        title="Brute force against exposed RDP services",
        description="A botnet tries common passwords on RDP services of financial firms.",
        recommendations="Close RDP to the internet; lock accounts after failed attempts.",
        indicators=[SHARED_ATTACKER, "45.133.1.7"],
    )
    publish("a_rdp", day(4, 10))
    answer("a_rdp", "bank_a", a_head, day(4, 16), "accept")
    answer("a_rdp", "bank_b", b_head, day(3, 9), "accept")
    answer("a_rdp", "bank_b", b_maker, day(2, 10), "processed")
    # Published yesterday (the last working day): due today.
    alert(
        "a_fresh",
        center,
        day(1, 10),
        **threat,
        tlp="AMBER",
        threat_type_id=types.get("malicious-code"),
        title="Ransomware affiliates targeting the financial sector",
        description="Initial access through a VPN appliance, then encryption of file servers.",
        recommendations="Patch the VPN gateways; keep offline backups; watch the hashes.",
        indicators=["e99a18c428cb38d5f260853678922e03", "cdn-update.example.net"],
    )
    publish("a_fresh", day(1, 11), ["bank_a", "bank_b", "mfo"])
    answer("a_fresh", "mfo", m_head, day(1, 17), "accept")

    # Requests -------------------------------------------------------------------------------
    def request(key: str, by: User, created: datetime, to: list[str], **data: Any) -> None:
        def step() -> None:
            made[key] = inquiries.inquiry_create(
                actor=by, addressee_ids=[orgs[o].pk for o in to], **data
            )

        at(created, step)

    def request_move(key: str, by: User, moment: datetime, name: str, comment: str = "") -> None:
        at(
            moment,
            lambda: inquiries.inquiry_transition(
                actor=by, inquiry=made[key], name=name, comment=comment
            ),
        )

    def thread(
        key: str,
        org: str,
        by: User,
        moment: datetime,
        name: str,
        comment: str = "",
        answer_text: str = "",
    ) -> None:
        def step() -> None:
            t = InquiryThread.objects.get(inquiry=made[key], organization=orgs[org])
            if answer_text:
                t = inquiries.answer_update(actor=by, thread=t, answer=answer_text)
            inquiries.thread_transition(actor=by, thread=t, name=name, comment=comment)

        at(moment, step)

    request(
        "r_to_center",
        a_maker,
        day(1, 9),
        ["center"],
        category="indicators",
        tlp="AMBER",
        subject=f"Is {SHARED_ATTACKER} seen at other banks?",
        body=f"Our WAF blocked logins from {SHARED_ATTACKER}. Do other organizations see it?",
    )
    request_move("r_to_center", a_maker, day(1, 9, 30), "request_approval")
    request_move("r_to_center", a_head, day(1, 10), "approve")
    request(
        "r_survey",
        center,
        day(3, 9),
        ["bank_a", "bank_b", "mfo"],
        category="regulatory",
        tlp="GREEN",
        subject="Status of the second factor for internet banking",
        body="Report the share of customers with a second factor and the plan for the rest.",
    )
    request_move("r_survey", center, day(3, 10), "send_direct")
    thread("r_survey", "bank_a", a_head, day(2, 10), "accept")
    thread(
        "r_survey",
        "mfo",
        m_head,
        day(2, 15),
        "decline",
        "We offer no internet banking; loans are issued in branches only.",
    )
    request(
        "r_vpn",
        center,
        day(11, 9),
        ["bank_a"],
        category="vulnerability",
        tlp="AMBER",
        subject="Exposure to CVE-2024-3400",
        body="List your GlobalProtect portals, their versions and the date of the update.",
    )
    request_move("r_vpn", center, day(11, 10), "send_direct")
    thread("r_vpn", "bank_a", a_head, day(10, 11), "accept")  # the answer is due today
    thread(
        "r_vpn",
        "bank_a",
        a_maker,
        day(1, 16),
        "request_approval",
        answer_text="Two portals, both on PAN-OS 11.1.2-h3 since the 15th; no signs of use.",
    )
    request(
        "r_answered",
        b_maker,
        day(5, 9),
        ["center"],
        category="fraud",
        tlp="AMBER",
        subject="Mule accounts linked to the phishing site",
        body="Which banks hold the accounts that received money from the phishing victims?",
    )
    request_move("r_answered", b_maker, day(5, 10), "request_approval")
    request_move("r_answered", b_head, day(5, 11), "approve")
    thread("r_answered", "center", center, day(5, 15), "accept")
    thread(
        "r_answered",
        "center",
        center,
        day(2, 12),
        "answer_direct",
        answer_text="Two accounts at Alatau Bank JSC; the bank has been told to block them.",
    )
    request(
        "r_returned_answer",
        a_maker,
        day(6, 9),
        ["bank_b"],
        category="fraud",
        tlp="AMBER",
        subject="Transfers from SIM-swapped accounts",
        body="Three transfers went to your customers' accounts; please tell what was stopped.",
    )
    request_move("r_returned_answer", a_maker, day(6, 9, 30), "request_approval")
    request_move("r_returned_answer", a_head, day(6, 10), "approve")
    thread("r_returned_answer", "bank_b", b_head, day(5, 12), "accept")
    thread(
        "r_returned_answer",
        "bank_b",
        b_maker,
        day(4, 10),
        "request_approval",
        answer_text="Two transfers were stopped.",
    )
    thread("r_returned_answer", "bank_b", b_head, day(4, 15), "approve")
    thread(
        "r_returned_answer",
        "bank_b",
        a_maker,
        day(3, 10),
        "return_answer",
        "Give the dates, amounts and account numbers of each transfer.",
    )
    request(
        "r_closed",
        a_maker,
        day(16, 9),
        ["center"],
        category="other",
        tlp="GREEN",
        subject="Contact for the sector's exercise",
        body="Whom should our SOC contact for the exercise next month?",
    )
    request_move("r_closed", a_maker, day(16, 10), "request_approval")
    request_move("r_closed", a_head, day(16, 11), "approve")
    thread("r_closed", "center", center, day(15, 10), "accept")
    thread(
        "r_closed",
        "center",
        center,
        day(12, 10),
        "answer_direct",
        answer_text="The exercise desk: soc@aips.example.kz, +7 701 100 00 02.",
    )
    thread("r_closed", "center", a_maker, day(11, 10), "close")
    request(
        "r_returned",
        b_maker,
        day(3, 9),
        ["center"],
        category="threat",
        tlp="AMBER",
        subject="Запрос сведений о фишинговой кампании",
        body="Просим сообщить, известны ли центру другие домены этой кампании.",
    )
    request_move("r_returned", b_maker, day(3, 10), "request_approval")
    request_move("r_returned", b_head, day(3, 11), "approve")
    request_move(
        "r_returned",
        center,
        day(2, 14),
        "return",
        "Укажите домены и даты, которые вы уже наблюдали.",
    )
    request(
        "r_draft",
        a_maker,
        ago(30),
        ["center", "bank_b"],
        category="indicators",
        tlp="GREEN",
        subject="Hashes of the loader seen on an accounting workstation",
        body="Have you seen these files? 44d88612fea8a8f36de82e1278abb02f",
    )
    request(
        "r_b_awaiting",
        b_maker,
        day(1, 9),
        ["center"],
        category="vulnerability",
        tlp="GREEN",
        subject="Сроки обновления PAN-OS",
        body="Просим подтвердить допустимый срок установки обновления.",
    )
    request_move("r_b_awaiting", b_maker, day(1, 11), "request_approval")
    request(
        "r_mfo",
        center,
        day(1, 12),
        ["mfo"],
        category="regulatory",
        tlp="GREEN",
        subject="Confirm your IS contact person",
        body="Confirm the name, phone and e-mail of the person responsible for IS.",
    )
    request_move("r_mfo", center, day(1, 12, 5), "send_direct")

    story.tell()
    return len(made)
