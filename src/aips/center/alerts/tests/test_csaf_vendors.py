"""The CSAF importer on advisories as vendors publish them (R67.3.5, R67.8): Red Hat, Cisco,
CISA and the OASIS VEX examples, kept in fixtures/csaf (sources and licences in SOURCES.md)."""

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from aips.center.alerts import services
from aips.center.alerts.importers import (
    MAX_BYTES,
    MAX_DESCRIPTION,
    MAX_REFERENCES,
    MAX_VERSIONS,
    ImportProblem,
    detect_and_parse,
    from_csaf,
    read_limited,
)
from aips.core.errors import ValidationFailed
from aips.shared.accounts.models import User

FIXTURES = Path(__file__).parent / "fixtures" / "csaf"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def problem(data: Any) -> ImportProblem:
    with pytest.raises(ImportProblem) as caught:
        detect_and_parse(data)
    return caught.value


# --- 1. every product-status group, relationships resolved ------------------------------------


def test_r67_3_5_red_hat_fixed_products_via_relationships_are_the_affected_components() -> None:
    draft = from_csaf(fixture("rhsa-2022_0011.json"))
    # Red Hat lists the products under `fixed`, each a package "as a component of" a platform:
    # one line per platform, every package kept, none collapsed into one component line.
    assert [a["product"] for a in draft.affected] == [
        "Red Hat Enterprise Linux Server AUS (v. 7.6)",
        "Red Hat Enterprise Linux Server E4S (v. 7.6)",
        "Red Hat Enterprise Linux Server TUS (v. 7.6)",
    ]
    assert {a["vendor"] for a in draft.affected} == {"Red Hat"}
    assert sum(len(a["versions"]) for a in draft.affected) == 15
    assert "fixed: telnet-server-1:0.17-65.el7_6.ppc64le" in draft.affected[1]["versions"]
    assert len(draft.statuses) == 15
    assert draft.statuses[0] == {
        "product": (
            "telnet-1:0.17-65.el7_6.src as a component of Red Hat Enterprise Linux Server AUS "
            "(v. 7.6)"
        ),
        "status": "fixed",
        "justification": "",
    }


def test_r67_3_5_red_hat_product_family_under_fixed_is_affected_not_zero() -> None:
    draft = from_csaf(fixture("rhsa-2021_5217.json"))
    assert draft.affected == [
        {"vendor": "Red Hat", "product": "Red Hat Single Sign-On", "versions": ["fixed"], "cpe": ""}
    ]


def test_r67_3_5_cisco_keeps_every_affected_release() -> None:
    source = json.loads(fixture("cisco-sa-20180328-smi2.json"))
    listed = sum(len(v["product_status"]["known_affected"]) for v in source["vulnerabilities"])
    draft = from_csaf(fixture("cisco-sa-20180328-smi2.json"))
    assert [(a["product"], len(a["versions"])) for a in draft.affected] == [
        ("IOS", 180),
        ("Cisco IOS XE Software", 79),
    ]
    assert sum(len(a["versions"]) for a in draft.affected) == listed == 259
    assert draft.shortened == []


# --- 2. VEX -------------------------------------------------------------------------------------


def test_r67_8_vex_not_affected_is_imported_as_not_affected_with_justification() -> None:
    draft = from_csaf(fixture("2022-evd-uc-01-na-001.json"))
    assert draft.vex is True
    assert draft.affected == []
    assert draft.statuses == [
        {
            "product": "Example Company ABC 4.2",
            "status": "not_affected",
            "justification": "Class with vulnerable code was removed before shipping.",
        }
    ]
    assert draft.recommendations == (
        "Product status according to the vendor (VEX):\n"
        "- Example Company ABC 4.2: not affected (Class with vulnerable code was removed before "
        "shipping.)\n"
        "The vendor states that no product this document names is affected; nothing needs to be "
        "done for them."
    )


def test_r67_8_vex_under_investigation_and_fixed_say_so() -> None:
    investigating = from_csaf(fixture("2022-evd-uc-01-ui-001.json"))
    assert investigating.affected[0]["versions"] == ["under investigation: 17.4"]
    assert investigating.statuses[0]["status"] == "under_investigation"
    assert "under investigation" in investigating.recommendations
    fixed = from_csaf(fixture("2022-evd-uc-01-f-001.json"))
    assert fixed.affected[0]["versions"] == ["fixed: 1.1"]
    assert "- Example Company DEF 1.1: fixed" in fixed.recommendations
    assert "no product this document names is affected" not in fixed.recommendations


@pytest.mark.django_db
def test_r67_8_vex_not_affected_draft_never_says_apply_the_fix(personas: dict[str, User]) -> None:
    alert = services.alert_import(
        actor=personas["center_analyst"], data=fixture("2022-evd-uc-01-na-001.json")
    )
    assert "Apply the vendor's fix" not in alert.recommendations
    assert "not affected" in alert.recommendations
    assert alert.level == "low"
    assert alert.affected == []


# --- 3. no silent truncation, large files -------------------------------------------------------


@pytest.mark.django_db
def test_r67_3_5_multi_cve_cisa_advisory_fits_and_says_it_was_shortened(
    personas: dict[str, User],
) -> None:
    draft = from_csaf(fixture("icsa-24-046-11.json"))
    assert len(draft.cve_ids) == 160
    assert len(draft.description) <= MAX_DESCRIPTION
    assert "Shortened on import:" in draft.description
    assert "The full text is in the source advisory." in draft.description
    alert = services.alert_import(
        actor=personas["center_analyst"], data=fixture("icsa-24-046-11.json")
    )
    assert len(alert.cve_ids) == 160
    assert alert.level == "critical"


def _generated(products: int = 1, versions: int = 1, references: int = 0) -> dict[str, Any]:
    branches = [
        {
            "category": "product_name",
            "name": f"Router {p}",
            "branches": [
                {
                    "category": "product_version",
                    "name": f"{p}.{v}",
                    "product": {"name": f"Router {p} {p}.{v}", "product_id": f"P{p}-{v}"},
                }
                for v in range(versions)
            ],
        }
        for p in range(products)
    ]
    return {
        "document": {
            "category": "csaf_security_advisory",
            "csaf_version": "2.0",
            "title": "Generated",
            "publisher": {"category": "vendor", "name": "Example", "namespace": "https://e.x"},
            "tracking": {"id": "GEN-1"},
            "references": [
                {"url": f"https://example.com/ref/{n}", "summary": "ref"} for n in range(references)
            ],
        },
        "product_tree": {
            "branches": [{"category": "vendor", "name": "Example", "branches": branches}]
        },
        "vulnerabilities": [
            {
                "cve": "CVE-2025-0001",
                "product_status": {
                    "known_affected": [
                        f"P{p}-{v}" for p in range(products) for v in range(versions)
                    ]
                },
            }
        ],
    }


def test_r67_3_5_what_is_cut_is_said_on_the_draft() -> None:
    draft = from_csaf(_generated(versions=MAX_VERSIONS + 200, references=MAX_REFERENCES + 7))
    assert len(draft.affected[0]["versions"]) == MAX_VERSIONS
    assert len(draft.references) == MAX_REFERENCES
    assert draft.shortened == [
        f"Example Router 0: 200 more versions are not listed (at most {MAX_VERSIONS} are kept).",
        f"7 more references are not listed (at most {MAX_REFERENCES} are kept).",
    ]
    assert draft.description.endswith(
        "Shortened on import:\n" + "\n".join(f"- {note}" for note in draft.shortened)
    )


def test_r67_3_5_a_25_mib_advisory_is_accepted() -> None:
    doc = _generated(products=40, versions=20)
    doc["document"]["notes"] = [
        {"category": "general", "text": "x" * (26 * 1024 * 1024), "title": "long"}
    ]
    raw = json.dumps(doc).encode()
    assert 25 * 1024 * 1024 < len(raw) < MAX_BYTES
    draft = from_csaf(read_limited(io.BytesIO(raw), len(raw)))
    assert len(draft.affected) == 40
    assert len(draft.description) <= MAX_DESCRIPTION
    assert "Shortened on import:" in draft.description


def test_r67_3_5_size_error_reports_the_real_size() -> None:
    size = 40 * 1024 * 1024 + 5
    with pytest.raises(ImportProblem) as caught:
        read_limited(io.BytesIO(b" " * 10), size)
    assert str(caught.value) == "The file is too big: 40.0 MiB; at most 32 MiB is accepted."
    # Without a declared size, what was read says it (and no more than the limit is read).
    stream = io.BytesIO(b" " * (MAX_BYTES + 100))
    with pytest.raises(ImportProblem):
        read_limited(stream)
    assert stream.tell() == MAX_BYTES + 1


# --- 4. TLP, vendor severity, CVSS v2 -----------------------------------------------------------


@pytest.mark.django_db
def test_r67_3_5_source_tlp_is_never_downgraded(personas: dict[str, User]) -> None:
    doc = json.loads(fixture("rhsa-2021_5217.json"))
    doc["document"]["distribution"]["tlp"]["label"] = "RED"
    assert from_csaf(doc).tlp == "RED"
    alert = services.alert_import(
        actor=personas["center_analyst"], data=json.dumps(doc).encode(), tlp="AMBER"
    )
    assert alert.tlp == "RED"
    # A TLP:WHITE (CLEAR) source keeps the stricter label the person chose.
    clear = services.alert_import(
        actor=personas["center_analyst"], data=fixture("rhsa-2021_5217.json"), tlp="AMBER"
    )
    assert clear.tlp == "AMBER"


@pytest.mark.django_db
def test_r67_3_5_vendor_aggregate_severity_sets_the_level_without_cvss(
    personas: dict[str, User],
) -> None:
    draft = from_csaf(fixture("rhsa-2021_5217.json"))
    assert (draft.cvss_severity, draft.vendor_severity, draft.vendor_level) == (
        "",
        "Important",
        "high",
    )
    assert "Severity according to the vendor: Important" in draft.description
    alert = services.alert_import(
        actor=personas["center_analyst"], data=fixture("rhsa-2021_5217.json")
    )
    assert alert.level == "high"


def test_r67_3_5_cvss_v2_is_kept_for_display() -> None:
    doc = json.loads(fixture("rhsa-2021_5217.json"))
    doc["vulnerabilities"][0]["scores"] = [
        {
            "cvss_v2": {
                "version": "2.0",
                "vectorString": "AV:N/AC:L/Au:N/C:P/I:P/A:P",
                "baseScore": 7.5,
            },
            "products": ["Red Hat Single Sign-On"],
        }
    ]
    draft = from_csaf(doc)
    assert draft.cvss_v2 == "AV:N/AC:L/Au:N/C:P/I:P/A:P (7.5)"
    assert "CVSS v2 (for reference): AV:N/AC:L/Au:N/C:P/I:P/A:P (7.5)" in draft.description
    assert draft.cvss_vector == ""


# --- 5. ROLIE, provider metadata, CSAF 2.1 ------------------------------------------------------


def test_r67_3_5_rolie_feed_provider_metadata_and_csaf_2_1_are_named() -> None:
    assert str(problem(fixture("rolie-example-01-feed-tlp-white.json"))) == (
        "This is a ROLIE feed of CSAF advisories (“Example CSAF feed (TLP:WHITE)”, 1 entry), "
        "not an advisory: download the advisory from the entry's link and import that file."
    )
    assert str(problem(fixture("example-01-provider-metadata.json"))) == (
        "This is the provider metadata (provider-metadata.json) of the CSAF provider “Example "
        "Company ProductCERT”, not an advisory: import the advisories its ROLIE feeds or "
        "directories list one by one."
    )
    assert str(problem(fixture("csaf_2.1-bsi-2022-0001.json"))) == (
        "This is a CSAF 2.1 advisory; CSAF 2.1 is not supported yet. Import the publisher's "
        "CSAF 2.0 version of it."
    )


def test_r67_3_5_api_answers_a_rolie_feed_with_422_saying_what_it_is(
    personas: dict[str, User], client_as: Callable[[str | None], Client]
) -> None:
    client = client_as("center_analyst")
    upload = SimpleUploadedFile(
        "feed.json", fixture("rolie-example-01-feed-tlp-white.json"), "application/json"
    )
    response = client.post("/api/v1/alerts/import", {"file": upload})
    assert response.status_code == 422
    assert "This is a ROLIE feed" in json.dumps(response.json()["error"]["fields"]["file"])
    redhat = SimpleUploadedFile("rhsa.json", fixture("rhsa-2022_0011.json"), "application/json")
    created = client.post("/api/v1/alerts/import", {"file": redhat})
    assert created.status_code == 201, created.content
    assert len(created.json()["affected"]) == 3


def test_r67_3_5_service_refuses_an_oversized_upload_with_its_size(
    personas: dict[str, User],
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.alert_import(
            actor=personas["center_analyst"], data=io.BytesIO(b"{}"), size=60 * 1024 * 1024
        )
    assert caught.value.fields == {
        "file": ["The file is too big: 60.0 MiB; at most 32 MiB is accepted."]
    }
