"""`vers:` version ranges in words (kk, ru, en) and Red Hat's own VEX document (R67.3.5, R67.8)."""

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client
from django.utils import translation

from aips.center.alerts import services
from aips.center.alerts.importers import ProductStatus, from_csaf
from aips.center.alerts.templatetags.alerts_vers import shown_version
from aips.center.alerts.vers import VersError, parse_vers, vers_text
from aips.shared.accounts.models import User

FIXTURES = Path(__file__).parent / "fixtures" / "csaf"


@pytest.mark.parametrize(
    ("vers", "words"),
    [
        ("vers:semver/>=1.2.0|<1.4.3", "from 1.2.0 up to but not including 1.4.3 (semver)"),
        ("vers:npm/>=1.0.0|<=2.0.0", "from 1.0.0 up to and including 2.0.0 (npm)"),
        ("vers:pypi/>1.0|<2.0", "after 1.0 up to but not including 2.0 (pypi)"),
        ("vers:deb/<1.2.3", "before 1.2.3 (deb)"),
        ("vers:deb/<=1.2.3", "up to and including 1.2.3 (deb)"),
        ("vers:gem/>=4.0", "4.0 and later (gem)"),
        ("vers:gem/>4.0", "later than 4.0 (gem)"),
        ("vers:generic/*", "all versions (generic)"),
        ("vers:pypi/1.2.3|2.0.0", "1.2.3; 2.0.0 (pypi)"),
        (
            "vers:npm/1.2.3|>=2.0.0|<5.0.0",
            "1.2.3; from 2.0.0 up to but not including 5.0.0 (npm)",
        ),
        (
            "vers:maven/>=1.0|!=1.5|<2.0",
            "from 1.0 up to but not including 2.0; except 1.5 (maven)",
        ),
        ("vers:generic/!=3.0", "all versions; except 3.0 (generic)"),
        ("VERS:SemVer/ >= 1.2.0 | < 1.4.3", "from 1.2.0 up to but not including 1.4.3 (semver)"),
        ("vers:generic/>=1.0%2B2|<2.0", "from 1.0+2 up to but not including 2.0 (generic)"),
    ],
)
def test_r67_3_5_vers_ranges_in_words(vers: str, words: str) -> None:
    with translation.override("en"):
        assert vers_text(vers) == words


@pytest.mark.parametrize(
    "vers",
    [
        "semver/>=1.2.0",  # no vers: prefix
        "vers:>=1.2.0",  # no scheme
        "vers:semver/",  # no constraints
        "vers:semver/>=1.2.0|<",  # a comparator without a version
        "vers:semver/>=1.2.0||<2",  # an empty constraint
        "vers:semver/1.0|1.0",  # a version twice
        "vers:semver/*|<2.0",  # * not alone
        "vers:semver/>=<1.0",
    ],
)
def test_r67_3_5_invalid_vers_is_refused(vers: str) -> None:
    with pytest.raises(VersError):
        parse_vers(vers)


def test_r67_3_5_vers_words_in_kazakh_and_russian() -> None:
    vers = "vers:semver/>=1.2.0|<1.4.3"
    with translation.override("ru"):
        ru = vers_text(vers)
    with translation.override("kk"):
        kk = vers_text(vers)
    # The words follow the .po catalogues (as the importer's messages do); the versions and the
    # scheme are always there, untranslated.
    for words in (ru, kk):
        assert "1.2.0" in words
        assert "1.4.3" in words
        assert words.endswith("(semver)")


def test_r67_3_5_shown_versions_keep_the_prefix_and_note_invalid_ranges() -> None:
    with translation.override("en"):
        fixed = shown_version("fixed: vers:npm/<2.0.0")
        plain = shown_version("2.4.58")
        broken = shown_version("vers:semver/>=1.2.0|<")
    assert fixed == {
        "text": "fixed: before 2.0.0 (npm)",
        "raw": "fixed: vers:npm/<2.0.0",
        "note": "",
    }
    assert plain == {"text": "2.4.58", "raw": "", "note": ""}
    assert broken["text"] == "vers:semver/>=1.2.0|<"
    assert broken["note"] == "not a valid vers range; shown as written"


def _vers_advisory() -> bytes:
    doc = json.loads((FIXTURES / "2022-evd-uc-01-f-001.json").read_bytes())
    doc["product_tree"] = {
        "branches": [
            {
                "category": "vendor",
                "name": "Example Company",
                "branches": [
                    {
                        "category": "product_name",
                        "name": "Controller",
                        "branches": [
                            {
                                "category": "product_version_range",
                                "name": "vers:semver/>=1.2.0|<1.4.3",
                                "product": {"product_id": "CSAFPID-R1", "name": "Controller A"},
                            },
                            {
                                "category": "product_version_range",
                                "name": "vers:semver/>=1.2.0|<",
                                "product": {"product_id": "CSAFPID-R2", "name": "Controller B"},
                            },
                        ],
                    }
                ],
            }
        ]
    }
    doc["document"]["category"] = "csaf_security_advisory"
    for vuln in doc["vulnerabilities"]:
        vuln["product_status"] = {"known_affected": ["CSAFPID-R1", "CSAFPID-R2"]}
        vuln.pop("flags", None)
        vuln.pop("threats", None)
        vuln.pop("remediations", None)
        vuln["remediations"] = [
            {
                "category": "vendor_fix",
                "details": "Update to 1.4.3.",
                "product_ids": ["CSAFPID-R1", "CSAFPID-R2"],
            }
        ]
    return json.dumps(doc).encode()


@pytest.mark.django_db
def test_r67_3_5_alert_page_shows_vers_ranges_in_words(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    alert = services.alert_import(actor=personas["center_analyst"], data=_vers_advisory())
    assert alert.affected[0]["versions"] == ["vers:semver/>=1.2.0|<1.4.3", "vers:semver/>=1.2.0|<"]
    page = client_as("center_analyst").get(f"/alerts/{alert.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "from 1.2.0 up to but not including 1.4.3 (semver)" in text
    # The range as the source wrote it stays one hover away; a broken one is shown as written.
    assert 'title="vers:semver/&gt;=1.2.0|&lt;1.4.3"' in text
    assert 'vers:semver/&gt;=1.2.0|&lt; <span class="muted vers-note">' in text
    assert "not a valid vers range; shown as written" in text


# --- Red Hat's VEX document for CVE-2023-38545 (curl) ----------------------------------------


def test_r67_8_red_hat_vex_fixed_and_not_affected_with_justification() -> None:
    source = json.loads((FIXTURES / "cve-2023-38545.json").read_bytes())
    vuln = source["vulnerabilities"][0]
    draft = from_csaf(json.dumps(source))
    assert draft.vex
    assert draft.cve_ids == ["CVE-2023-38545"]
    assert draft.source == "CSAF: Red Hat Product Security CVE-2023-38545"
    assert draft.tlp == "CLEAR"
    assert draft.cvss_vector == "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H"
    assert draft.cvss_severity == "high"
    assert draft.vendor_severity == "Important"
    by_status: dict[str, list[ProductStatus]] = {}
    for status in draft.statuses:
        by_status.setdefault(status["status"], []).append(status)
    assert set(by_status) == {"fixed", "not_affected"}
    # Every product the document names under `known_not_affected` is there, with Red Hat's
    # VEX justification (the flag `vulnerable_code_not_present`).
    assert len(vuln["product_status"]["known_not_affected"]) == 247
    assert {s["justification"] for s in by_status["not_affected"]} == {
        "the vulnerable code is not present"
    }
    assert {
        "product": (
            "rubygem-foreman_scap_client-0:0.5.2-1.el6sat.noarch as a component of Satellite "
            "Client 6 for RHEL 6"
        ),
        "status": "not_affected",
        "justification": "the vulnerable code is not present",
    } in by_status["not_affected"]
    assert {s["justification"] for s in by_status["fixed"]} == {""}
    # The fixed packages are the draft's affected products, one line per platform.
    affected_products = {a["product"] for a in draft.affected}
    assert "Satellite Client 6 for RHEL 6" in affected_products
    assert all(
        v.startswith("fixed: ") or v == "fixed" for a in draft.affected for v in a["versions"]
    )
    assert draft.recommendations.startswith("Product status according to the vendor (VEX):")
    assert (
        "rubygem-foreman_scap_client-0:0.5.2-1.el6sat.noarch as a component of Satellite Client 6 "
        "for RHEL 6: not affected (the vulnerable code is not present)"
    ) in draft.recommendations
    assert draft.shortened == []


@pytest.mark.django_db
def test_r67_8_red_hat_vex_becomes_a_high_draft(personas: dict[str, User]) -> None:
    alert = services.alert_import(
        actor=personas["center_analyst"], data=(FIXTURES / "cve-2023-38545.json").read_bytes()
    )
    assert alert.level == "high"
    # The source's TLP:WHITE (CLEAR) never loosens the analyst's default choice, AMBER.
    assert alert.tlp == "AMBER"
    assert alert.cve_ids == ["CVE-2023-38545"]
    assert "Apply the vendor's fix" not in alert.recommendations
