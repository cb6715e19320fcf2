"""The demo dataset: the center, two banks and a microfinance organization, with a user in every
role. `make run` loads it once; the test personas are the same people."""

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from aips.center.integrations import services as integrations
from aips.center.integrations.models import IntegrationModule, ModuleActor
from aips.center.signals import services as signals
from aips.core.actors import SystemActor
from aips.shared.accounts import services as account_services
from aips.shared.accounts.models import User
from aips.shared.mfa import services as mfa_services
from aips.shared.organizations import services as org_services
from aips.shared.organizations.models import Organization

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
        "Қаржы нарығының салалық АҚ орталығы (ҚНРДА)",
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
    signals.counters_flush(force=True)
    return stored
