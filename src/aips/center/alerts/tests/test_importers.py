"""Vulnerability alert drafts imported from CSAF 2.0 advisories and NVD CVE JSON 2.0 records
(R67.3.5), including broken files, and CVSS v3.1 / v4.0 scoring. No database needed."""

import copy
import json
from typing import Any

import pytest

from aips.center.alerts.importers import (
    MAX_BYTES,
    ImportProblem,
    VulnerabilityDraft,
    detect_and_parse,
    from_csaf,
    from_nvd,
    load_json,
    score_cvss,
)

# --- Sample documents -------------------------------------------------------------------------


def csaf_advisory() -> dict[str, Any]:
    """A vendor's CSAF 2.0 security advisory: a product tree and two vulnerabilities."""
    return {
        "document": {
            "category": "csaf_security_advisory",
            "csaf_version": "2.0",
            "title": "Example Gateway and Admin Console: remote code execution and XSS",
            "lang": "en",
            "distribution": {"tlp": {"label": "WHITE", "url": "https://www.first.org/tlp/"}},
            "publisher": {
                "category": "vendor",
                "name": "Example Software PSIRT",
                "namespace": "https://psirt.example.com",
            },
            "tracking": {
                "id": "EXSA-2025-0042",
                "status": "final",
                "version": "2",
                "initial_release_date": "2025-03-04T10:00:00.000Z",
                "current_release_date": "2025-03-06T08:30:00.000Z",
                "revision_history": [
                    {"number": "1", "date": "2025-03-04T10:00:00.000Z", "summary": "First."},
                    {"number": "2", "date": "2025-03-06T08:30:00.000Z", "summary": "Exploited."},
                ],
                "generator": {"engine": {"name": "Secvisogram", "version": "2.5.4"}},
            },
            "notes": [
                {
                    "category": "summary",
                    "title": "Summary",
                    "text": "Two vulnerabilities in Example Gateway and its Admin Console.",
                },
                {
                    "category": "legal_disclaimer",
                    "title": "Terms of use",
                    "text": "Provided as is, without warranty of any kind.",
                },
            ],
            "references": [
                {
                    "category": "self",
                    "summary": "This advisory as CSAF",
                    "url": "https://psirt.example.com/csaf/2025/exsa-2025-0042.json",
                },
                {
                    "category": "external",
                    "summary": "Advisory page",
                    "url": "https://psirt.example.com/advisories/EXSA-2025-0042",
                },
            ],
        },
        "product_tree": {
            "branches": [
                {
                    "category": "vendor",
                    "name": "Example Software",
                    "branches": [
                        {
                            "category": "product_name",
                            "name": "Example Gateway",
                            "branches": [
                                {
                                    "category": "product_version",
                                    "name": "4.2.0",
                                    "product": {
                                        "product_id": "EGW-4.2.0",
                                        "name": "Example Gateway 4.2.0",
                                        "product_identification_helper": {
                                            "cpe": "cpe:2.3:a:example:gateway:4.2.0:*:*:*:*:*:*:*"
                                        },
                                    },
                                },
                                {
                                    "category": "product_version",
                                    "name": "4.2.1",
                                    "product": {
                                        "product_id": "EGW-4.2.1",
                                        "name": "Example Gateway 4.2.1",
                                        "product_identification_helper": {
                                            "cpe": "cpe:2.3:a:example:gateway:4.2.1:*:*:*:*:*:*:*"
                                        },
                                    },
                                },
                                {
                                    "category": "product_version",
                                    "name": "4.3.0",
                                    "product": {
                                        "product_id": "EGW-4.3.0",
                                        "name": "Example Gateway 4.3.0",
                                        "product_identification_helper": {
                                            "cpe": "cpe:2.3:a:example:gateway:4.3.0:*:*:*:*:*:*:*"
                                        },
                                    },
                                },
                            ],
                        },
                        {
                            "category": "product_name",
                            "name": "Example Admin Console",
                            "branches": [
                                {
                                    "category": "product_version_range",
                                    "name": "vers:generic/<2.1.5",
                                    "product": {
                                        "product_id": "ECON-LT-2.1.5",
                                        "name": "Example Admin Console before 2.1.5",
                                    },
                                }
                            ],
                        },
                    ],
                }
            ],
            "full_product_names": [
                {
                    "product_id": "PARTNER-BOX",
                    "name": "Partner Box appliance",
                    "product_identification_helper": {
                        "cpe": "cpe:2.3:h:partner:box:2024:*:*:*:*:*:*:*"
                    },
                }
            ],
            "relationships": [
                {
                    "category": "default_component_of",
                    "product_reference": "ECON-LT-2.1.5",
                    "relates_to_product_reference": "PARTNER-BOX",
                    "full_product_name": {
                        "product_id": "ECON-LT-2.1.5:PARTNER-BOX",
                        "name": "Example Admin Console before 2.1.5 in Partner Box appliance",
                    },
                }
            ],
        },
        "vulnerabilities": [
            {
                "cve": "CVE-2025-10001",
                "title": "Unauthenticated remote code execution in the gateway's API",
                "cwe": {"id": "CWE-78", "name": "OS Command Injection"},
                "notes": [
                    {
                        "category": "description",
                        "text": "A crafted API request lets an attacker run commands as root.",
                    }
                ],
                "product_status": {
                    "known_affected": ["EGW-4.2.0", "EGW-4.2.1"],
                    "fixed": ["EGW-4.3.0"],
                },
                "scores": [
                    {
                        "products": ["EGW-4.2.0", "EGW-4.2.1"],
                        "cvss_v3": {
                            "version": "3.1",
                            "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                            "baseScore": 9.8,
                            "baseSeverity": "CRITICAL",
                        },
                    }
                ],
                "remediations": [
                    {
                        "category": "vendor_fix",
                        "details": "Update Example Gateway to 4.3.0 or later.",
                        "url": "https://downloads.example.com/gateway/4.3.0",
                        "product_ids": ["EGW-4.2.0", "EGW-4.2.1"],
                    }
                ],
                "threats": [
                    {"category": "impact", "details": "Full compromise of the gateway."},
                    {
                        "category": "exploit_status",
                        "details": "Exploitation in the wild has been observed since 2025-03-05.",
                    },
                ],
                "references": [
                    {
                        "category": "external",
                        "summary": "CVE record",
                        "url": "https://www.cve.org/CVERecord?id=CVE-2025-10001",
                    },
                    {"category": "external", "summary": "Mirror", "url": "ftp://ftp.example.com/x"},
                ],
            },
            {
                "cve": "CVE-2025-10002",
                "title": "Stored XSS in the Admin Console",
                "notes": [
                    {
                        "category": "description",
                        "text": "An administrator's note field is not escaped.",
                    }
                ],
                "product_status": {
                    "known_affected": ["ECON-LT-2.1.5", "ECON-LT-2.1.5:PARTNER-BOX"]
                },
                "scores": [
                    {
                        "products": ["ECON-LT-2.1.5"],
                        "cvss_v3": {
                            "version": "3.1",
                            "vectorString": "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N",
                            "baseScore": 5.4,
                            "baseSeverity": "MEDIUM",
                        },
                    }
                ],
                "remediations": [
                    {
                        "category": "vendor_fix",
                        "details": "Update Example Gateway to 4.3.0 or later.",
                        "url": "https://downloads.example.com/gateway/4.3.0",
                        "product_ids": ["ECON-LT-2.1.5"],
                    },
                    {
                        "category": "workaround",
                        "details": "Allow the Admin Console only from the management network.",
                        "product_ids": ["ECON-LT-2.1.5"],
                    },
                ],
                "threats": [{"category": "exploit_status", "details": "No known exploitation."}],
                "references": [{"category": "external", "url": "javascript:alert(1)"}],
            },
        ],
    }


V40 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:A/AU:Y/R:U/V:C/RE:M/U:Red"
GATEWAY_CPE = "cpe:2.3:a:examplecorp:secure_gateway"


def nvd_cve() -> dict[str, Any]:
    return {
        "id": "CVE-2025-20777",
        "sourceIdentifier": "psirt@examplecorp.com",
        "published": "2025-01-08T23:15:09.553",
        "lastModified": "2025-01-13T17:20:11.380",
        "vulnStatus": "Analyzed",
        "cveTags": [],
        "cisaExploitAdd": "2025-01-08",
        "cisaActionDue": "2025-01-15",
        "cisaRequiredAction": (
            "Apply mitigations per vendor instructions or discontinue use of the product if "
            "mitigations are unavailable."
        ),
        "cisaVulnerabilityName": "ExampleCorp Secure Gateway Stack-Based Buffer Overflow",
        "descriptions": [
            {
                "lang": "en",
                "value": (
                    "A stack-based buffer overflow in ExampleCorp Secure Gateway before 22.7R2.5 "
                    "allows a remote unauthenticated attacker to achieve remote code execution. "
                    "Policy Secure before 22.7R1.2 is affected too."
                ),
            },
            {
                "lang": "es",
                "value": "Un desbordamiento de búfer basado en pila en ExampleCorp Secure Gateway.",
            },
        ],
        "metrics": {
            "cvssMetricV40": [
                {
                    "source": "psirt@examplecorp.com",
                    "type": "Secondary",
                    "cvssData": {
                        "version": "4.0",
                        "vectorString": V40,
                        "baseScore": 10.0,
                        "baseSeverity": "CRITICAL",
                    },
                }
            ],
            "cvssMetricV31": [
                {
                    "source": "psirt@examplecorp.com",
                    "type": "Secondary",
                    "cvssData": {
                        "version": "3.1",
                        "vectorString": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H",
                        "baseScore": 8.1,
                        "baseSeverity": "HIGH",
                    },
                    "exploitabilityScore": 2.2,
                    "impactScore": 5.9,
                },
                {
                    "source": "nvd@nist.gov",
                    "type": "Primary",
                    "cvssData": {
                        "version": "3.1",
                        "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                        "baseScore": 9.8,
                        "baseSeverity": "CRITICAL",
                    },
                    "exploitabilityScore": 3.9,
                    "impactScore": 5.9,
                },
            ],
        },
        "weaknesses": [
            {
                "source": "psirt@examplecorp.com",
                "type": "Primary",
                "description": [{"lang": "en", "value": "CWE-121"}],
            }
        ],
        "configurations": [
            {
                "nodes": [
                    {
                        "operator": "OR",
                        "negate": False,
                        "cpeMatch": [
                            {
                                "vulnerable": True,
                                "criteria": f"{GATEWAY_CPE}:22.7:r2.3:*:*:*:*:*:*",
                                "matchCriteriaId": "0A1B2C3D-0000-4000-8000-000000000001",
                            },
                            {
                                "vulnerable": True,
                                "criteria": f"{GATEWAY_CPE}:22.7:r2.4:*:*:*:*:*:*",
                                "matchCriteriaId": "0A1B2C3D-0000-4000-8000-000000000002",
                            },
                            {
                                "vulnerable": True,
                                "criteria": "cpe:2.3:a:examplecorp:policy_secure:*:*:*:*:*:*:*:*",
                                "versionStartIncluding": "22.1",
                                "versionEndExcluding": "22.7",
                                "matchCriteriaId": "0A1B2C3D-0000-4000-8000-000000000003",
                            },
                        ],
                    }
                ]
            },
            {
                "operator": "AND",
                "nodes": [
                    {
                        "operator": "OR",
                        "negate": False,
                        "cpeMatch": [
                            {
                                "vulnerable": True,
                                "criteria": "cpe:2.3:o:examplecorp:gateway_os:*:*:*:*:*:*:*:*",
                                "versionEndIncluding": "9.1",
                                "matchCriteriaId": "0A1B2C3D-0000-4000-8000-000000000004",
                            }
                        ],
                    },
                    {
                        "operator": "OR",
                        "negate": False,
                        "cpeMatch": [
                            {
                                "vulnerable": False,
                                "criteria": "cpe:2.3:h:examplecorp:appliance_x100:-:*:*:*:*:*:*:*",
                                "matchCriteriaId": "0A1B2C3D-0000-4000-8000-000000000005",
                            }
                        ],
                    },
                ],
            },
        ],
        "references": [
            {
                "url": "https://supportportal.examplecorp.com/s/article/SA-2025-0108",
                "source": "psirt@examplecorp.com",
                "tags": ["Vendor Advisory"],
            },
            {
                "url": "https://www.cisa.gov/known-exploited-vulnerabilities-catalog?search_api_fulltext=CVE-2025-20777",
                "source": "134c704f-9b21-4f2e-91b3-4a467353bcc0",
                "tags": ["US Government Resource"],
            },
            {
                "url": "https://supportportal.examplecorp.com/s/article/SA-2025-0108",
                "source": "nvd@nist.gov",
                "tags": ["Vendor Advisory"],
            },
        ],
    }


def nvd_response(*cves: dict[str, Any]) -> dict[str, Any]:
    return {
        "resultsPerPage": len(cves),
        "startIndex": 0,
        "totalResults": len(cves),
        "format": "NVD_CVE",
        "version": "2.0",
        "timestamp": "2025-01-14T09:12:44.107",
        "vulnerabilities": [{"cve": cve} for cve in cves],
    }


def as_bytes(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False, indent=2).encode()


def problem(data: Any, parse: Any = detect_and_parse) -> ImportProblem:
    with pytest.raises(ImportProblem) as caught:
        parse(data)
    return caught.value


# --- CVSS -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vector", "expected"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", ("3.1", 9.8, "critical")),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", ("3.1", 10.0, "critical")),
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", ("3.1", 8.1, "high")),
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", ("3.1", 5.5, "medium")),
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N", ("3.1", 5.4, "medium")),
        ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", ("3.1", 1.6, "low")),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", ("3.1", 0.0, "none")),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", ("3.0", 7.5, "high")),
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            ("4.0", 9.3, "critical"),
        ),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", ("4.0", 8.7, "high")),
        ("CVSS:4.0/AV:L/AC:L/AT:N/PR:N/UI:P/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", ("4.0", 8.5, "high")),
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H",
            ("4.0", 10.0, "critical"),
        ),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", ("4.0", 0.0, "none")),
        (V40, ("4.0", 10.0, "critical")),
        ("  CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\n", ("3.1", 9.8, "critical")),
    ],
)
def test_r67_3_5_cvss_vectors_score_as_the_specifications_say(
    vector: str, expected: tuple[str, float, str]
) -> None:
    assert score_cvss(vector) == expected


@pytest.mark.parametrize(
    ("vector", "message"),
    [
        ("", "The CVSS vector is empty."),
        ("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "must start with “CVSS:3.1/”"),
        ("CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P", "CVSS version 2.0 is not supported"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:Q", "malformed at “A:Q”"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/XX:H", "malformed at “XX:H”"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A", "malformed at “A”"),
        ("CVSS:3.1/AV:N/AC:L/PR:N", "lacks the required metrics UI, S, C, I, A"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/A:L", "gives the metric “A” twice"),
        ("CVSS:3.1/AV:N//AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "empty part (after the 2. “/”)"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/", "empty part (after the 9. “/”)"),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N", "malformed at “SI:S”"),
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H",
            "lacks the required metrics SC, SI, SA",
        ),
        ("CVSS:3.1/" + "AV:N/" * 200 + "AC:L", "too long"),
    ],
)
def test_r67_3_5_malformed_cvss_vector_names_the_bad_part(vector: str, message: str) -> None:
    caught = problem(vector, score_cvss)
    assert message in str(caught)
    assert caught.field == "cvss_vector"


# --- NVD --------------------------------------------------------------------------------------


def test_r67_3_5_nvd_response_becomes_a_draft_with_every_field() -> None:
    draft = from_nvd(as_bytes(nvd_response(nvd_cve())))

    assert draft.title == ("CVE-2025-20777: ExampleCorp Secure Gateway Stack-Based Buffer Overflow")
    assert draft.description.startswith("A stack-based buffer overflow in ExampleCorp")
    assert draft.cve_ids == ["CVE-2025-20777"]
    # CVSS 4.0 is preferred over the NVD's own 3.1 score, and rescored from the vector.
    assert draft.cvss_vector == V40
    assert (draft.cvss_version, draft.cvss_score, draft.cvss_severity) == ("4.0", 10.0, "critical")
    assert draft.affected == [
        {
            "vendor": "examplecorp",
            "product": "secure_gateway",
            "versions": ["22.7 r2.3", "22.7 r2.4"],
            "cpe": "cpe:2.3:a:examplecorp:secure_gateway:22.7:*:*:*:*:*:*:*",
        },
        {
            "vendor": "examplecorp",
            "product": "policy_secure",
            "versions": [">= 22.1, < 22.7"],
            "cpe": "cpe:2.3:a:examplecorp:policy_secure:*:*:*:*:*:*:*:*",
        },
        {
            "vendor": "examplecorp",
            "product": "gateway_os",
            "versions": ["<= 9.1"],
            "cpe": "cpe:2.3:o:examplecorp:gateway_os:*:*:*:*:*:*:*:*",
        },
        # appliance_x100 is only the platform ("vulnerable": false): not listed.
    ]
    assert draft.references == [
        "https://supportportal.examplecorp.com/s/article/SA-2025-0108",
        "https://www.cisa.gov/known-exploited-vulnerabilities-catalog"
        "?search_api_fulltext=CVE-2025-20777",
    ]
    assert draft.recommendations == (
        "Apply mitigations per vendor instructions or discontinue use of the product if "
        "mitigations are unavailable."
    )
    assert draft.known_exploited is True
    assert draft.source == "NVD"


def test_r67_3_5_nvd_primary_31_before_secondary_and_no_kev() -> None:
    cve = nvd_cve()
    del cve["metrics"]["cvssMetricV40"]
    for key in ("cisaExploitAdd", "cisaActionDue", "cisaRequiredAction", "cisaVulnerabilityName"):
        del cve[key]
    draft = from_nvd(cve)  # a bare `cve` object, already parsed (as the API receives it)

    assert draft.cvss_vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    assert (draft.cvss_version, draft.cvss_score, draft.cvss_severity) == ("3.1", 9.8, "critical")
    assert draft.known_exploited is False
    assert draft.recommendations == ""
    # Without a KEV name, the title is the CVE id and the description's first sentence.
    assert draft.title == (
        "CVE-2025-20777: A stack-based buffer overflow in ExampleCorp Secure Gateway before "
        "22.7R2.5 allows a remote unauthenticated attacker to achieve remote code execution."
    )


def test_r67_3_5_nvd_record_forms_all_parse_the_same() -> None:
    cve = nvd_cve()
    expected = from_nvd(nvd_response(cve))
    assert from_nvd(json.dumps({"cve": cve})) == expected
    assert from_nvd(json.dumps(cve)) == expected
    assert detect_and_parse(as_bytes(nvd_response(cve))) == expected
    assert detect_and_parse(cve) == expected
    # A byte-order mark, as some Windows tools write it.
    assert detect_and_parse(b"\xef\xbb\xbf" + as_bytes(nvd_response(cve))) == expected


def test_r67_3_5_nvd_without_metrics_or_configurations_is_still_a_draft() -> None:
    cve = nvd_cve()
    for key in ("metrics", "configurations", "references", "cisaExploitAdd"):
        del cve[key]
    cve["vulnStatus"] = "Awaiting Analysis"
    draft = from_nvd(nvd_response(cve))
    assert (draft.cvss_vector, draft.cvss_version, draft.cvss_score, draft.cvss_severity) == (
        "",
        "",
        None,
        "",
    )
    assert draft.affected == []
    assert draft.references == []
    assert draft.known_exploited is False


def test_r67_3_5_nvd_cpe_escapes_and_exact_versions() -> None:
    cve = nvd_cve()
    cve["configurations"] = [
        {
            "nodes": [
                {
                    "operator": "OR",
                    "negate": False,
                    "cpeMatch": [
                        {
                            "vulnerable": True,
                            "criteria": "cpe:2.3:a:acme:c\\+\\+_toolkit:3.0\\:beta:-:*:*:*:*:*:*",
                        },
                        {
                            "vulnerable": True,
                            "criteria": "cpe:2.3:a:acme:c\\+\\+_toolkit:*:*:*:*:*:*:*:*",
                        },
                    ],
                }
            ]
        }
    ]
    draft = from_nvd(cve)
    assert draft.affected == [
        {
            "vendor": "acme",
            "product": "c++_toolkit",
            "versions": ["3.0:beta", "*"],
            "cpe": "cpe:2.3:a:acme:c\\+\\+_toolkit:*:*:*:*:*:*:*:*",
        }
    ]


def test_r67_3_5_nvd_with_zero_records_is_a_clear_error() -> None:
    caught = problem(as_bytes(nvd_response()))
    assert str(caught) == "The NVD file holds no CVE record."
    assert caught.field == "vulnerabilities"


def test_r67_3_5_nvd_with_two_records_asks_to_import_one_at_a_time() -> None:
    second = nvd_cve()
    second["id"] = "CVE-2025-20778"
    caught = problem(as_bytes(nvd_response(nvd_cve(), second)))
    assert str(caught) == "The NVD file holds 2 records; import one at a time."


def test_r67_3_5_nvd_malformed_vector_names_where_and_what() -> None:
    doc = nvd_response(nvd_cve())
    doc["vulnerabilities"][0]["cve"]["metrics"]["cvssMetricV40"][0]["cvssData"]["vectorString"] = (
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:X/SC:N/SI:N/SA:N"
    )
    caught = problem(as_bytes(doc))
    path = "vulnerabilities[0].cve.metrics.cvssMetricV40[0].cvssData.vectorString"
    assert str(caught) == f"“{path}”: The CVSS vector is malformed at “VA:X”."
    assert caught.field == path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"id": "CVE-25-1"},
            "“vulnerabilities[0].cve.id” is not a CVE id (CVE-YYYY-NNNN): “CVE-25-1”.",
        ),
        ({"id": "cve-2025-20777"}, "“vulnerabilities[0].cve.id” is not a CVE id"),
        ({"id": None}, "“vulnerabilities[0].cve.id” is missing."),
        ({"id": 2025}, "“vulnerabilities[0].cve.id” should be text, not a number."),
        ({"descriptions": []}, "“vulnerabilities[0].cve.descriptions” holds no description."),
        (
            {"descriptions": "x"},
            "“vulnerabilities[0].cve.descriptions” should be a list, not text.",
        ),
        ({"vulnStatus": "Rejected"}, "CVE-2025-20777 has been rejected"),
        (
            {"configurations": [{"nodes": [{"cpeMatch": [{"criteria": "cpe:/a:apache:httpd"}]}]}]},
            "“vulnerabilities[0].cve.configurations[0].nodes[0].cpeMatch[0].criteria” is not a "
            "CPE 2.3 name: “cpe:/a:apache:httpd”.",
        ),
    ],
)
def test_r67_3_5_nvd_bad_parts_are_named(change: dict[str, Any], message: str) -> None:
    cve = nvd_cve()
    for key, value in change.items():
        if value is None:
            del cve[key]
        else:
            cve[key] = value
    assert message in str(problem(as_bytes(nvd_response(cve))))


def test_r67_3_5_nvd_other_versions_and_formats_are_refused() -> None:
    doc = nvd_response(nvd_cve())
    doc["version"] = "1.1"
    assert str(problem(doc)) == ("This is not an NVD CVE JSON 2.0 record: “version” is “1.1”.")
    legacy = {"CVE_data_type": "CVE", "CVE_data_format": "MITRE", "CVE_Items": []}
    assert "NVD JSON 1.1 feed" in str(problem(legacy))
    cve5 = {"dataType": "CVE_RECORD", "dataVersion": "5.1", "cveMetadata": {"cveId": "CVE-1"}}
    assert "CVE JSON 5 record from cve.org" in str(problem(cve5))


# --- CSAF -------------------------------------------------------------------------------------


def test_r67_3_5_csaf_advisory_becomes_a_draft_with_every_field() -> None:
    draft = from_csaf(as_bytes(csaf_advisory()))

    assert draft == VulnerabilityDraft(
        title="Example Gateway and Admin Console: remote code execution and XSS",
        description=(
            "Two vulnerabilities in Example Gateway and its Admin Console.\n\n"
            "CVE-2025-10001: Unauthenticated remote code execution in the gateway's API\n"
            "A crafted API request lets an attacker run commands as root.\n\n"
            "CVE-2025-10002: Stored XSS in the Admin Console\n"
            "An administrator's note field is not escaped."
        ),
        cve_ids=["CVE-2025-10001", "CVE-2025-10002"],
        # The highest score of the two vulnerabilities.
        cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        cvss_version="3.1",
        cvss_score=9.8,
        cvss_severity="critical",
        affected=[
            {
                "vendor": "Example Software",
                "product": "Example Gateway",
                # The fixed version is listed as such (CSAF `product_status.fixed`).
                "versions": ["4.2.0", "4.2.1", "fixed: 4.3.0"],
                "cpe": "cpe:2.3:a:example:gateway:*:*:*:*:*:*:*:*",
            },
            {
                "vendor": "Example Software",
                "product": "Example Admin Console",
                "versions": ["vers:generic/<2.1.5"],
                "cpe": "",
            },
            # The relationship's product is the console inside the partner's appliance: a line
            # of its own, named with the platform.
            {
                "vendor": "Example Software",
                "product": "Example Admin Console (Partner Box appliance)",
                "versions": ["vers:generic/<2.1.5"],
                "cpe": "",
            },
        ],
        references=[
            "https://psirt.example.com/csaf/2025/exsa-2025-0042.json",
            "https://psirt.example.com/advisories/EXSA-2025-0042",
            "https://www.cve.org/CVERecord?id=CVE-2025-10001",
        ],
        recommendations=(
            "Vendor fix (CVE-2025-10001, CVE-2025-10002): Update Example Gateway to 4.3.0 or "
            "later. https://downloads.example.com/gateway/4.3.0\n"
            "Workaround (CVE-2025-10002): Allow the Admin Console only from the management "
            "network."
        ),
        known_exploited=True,
        source="CSAF: Example Software PSIRT EXSA-2025-0042",
        tlp="CLEAR",
        statuses=[
            {"product": "Example Gateway 4.2.0", "status": "affected", "justification": ""},
            {"product": "Example Gateway 4.2.1", "status": "affected", "justification": ""},
            {"product": "Example Gateway 4.3.0", "status": "fixed", "justification": ""},
            {
                "product": "Example Admin Console before 2.1.5",
                "status": "affected",
                "justification": "",
            },
            {
                "product": "Example Admin Console before 2.1.5 in Partner Box appliance",
                "status": "affected",
                "justification": "",
            },
        ],
        tracking_id="EXSA-2025-0042",
        tracking_version="2",
    )
    assert detect_and_parse(csaf_advisory()) == draft


def test_r67_3_5_csaf_full_product_names_and_cvss_v4() -> None:
    doc = csaf_advisory()
    vuln = doc["vulnerabilities"][1]
    vuln["product_status"]["known_affected"] = ["PARTNER-BOX"]
    vuln["scores"].append(
        {
            "products": ["PARTNER-BOX"],
            "cvss_v4": {
                "version": "4.0",
                "vectorString": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                "baseScore": 9.3,
                "baseSeverity": "CRITICAL",
            },
        }
    )
    draft = from_csaf(doc)
    # 9.8 (3.1) is still the highest.
    assert draft.cvss_score == 9.8
    assert draft.affected[-1] == {
        "vendor": "partner",
        "product": "box",
        "versions": ["2024"],
        "cpe": "cpe:2.3:h:partner:box:2024:*:*:*:*:*:*:*",
    }
    # Drop the 9.8 and the 4.0 one is the highest.
    del doc["vulnerabilities"][0]["scores"]
    draft = from_csaf(doc)
    assert (draft.cvss_version, draft.cvss_score, draft.cvss_severity) == ("4.0", 9.3, "critical")


@pytest.mark.parametrize(
    ("details", "exploited"),
    [
        ("Exploitation in the wild has been observed.", True),
        ("Actively exploited.", True),
        ("Listed in CISA KEV on 2025-03-05.", True),
        ("Attacks against customers were reported.", True),
        ("Actively exploited; no patch is available yet.", True),
        ("Exploitation: active", True),
        ("No known exploitation.", False),
        ("Exploitation: none", False),
        ("Exploited: no", False),
        ("Not exploited, but a proof of concept exists.", False),
        ("The vendor is not aware of any exploitation in the wild.", False),
        ("A proof-of-concept is public.", False),
    ],
)
def test_r67_3_5_csaf_exploit_status_sets_known_exploited(details: str, exploited: bool) -> None:
    doc = csaf_advisory()
    doc["vulnerabilities"][0]["threats"] = [{"category": "exploit_status", "details": details}]
    assert from_csaf(doc).known_exploited is exploited


def test_r67_3_5_csaf_1_2_and_missing_version_are_refused() -> None:
    doc = csaf_advisory()
    doc["document"]["csaf_version"] = "1.2"
    caught = problem(as_bytes(doc))
    assert str(caught) == ("This is not a CSAF 2.0 advisory: “document.csaf_version” is “1.2”.")
    assert caught.field == "document.csaf_version"
    del doc["document"]["csaf_version"]
    assert str(problem(doc)) == (
        "This is not a CSAF 2.0 advisory: “document.csaf_version” is missing."
    )


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            ("vulnerabilities", 1, "cve"),
            "CVE-2025-1",
            "“vulnerabilities[1].cve” is not a CVE id (CVE-YYYY-NNNN): “CVE-2025-1”.",
        ),
        (("vulnerabilities", 0, "cve"), 10001, "“vulnerabilities[0].cve” should be text"),
        (("document", "title"), None, "“document.title” is missing."),
        (("document", "title"), 42, "“document.title” should be text, not a number."),
        (("document", "tracking", "id"), None, "“document.tracking.id” is missing."),
        (("document", "publisher"), None, "“document.publisher” is missing."),
        (("vulnerabilities",), [], "The advisory lists no vulnerabilities"),
        (("vulnerabilities",), {"cve": "CVE-2025-10001"}, "“vulnerabilities” should be a list"),
        (
            ("vulnerabilities", 0, "product_status", "known_affected", 1),
            "EGW-9.9",
            "“vulnerabilities[0].product_status.known_affected[1]” names the product “EGW-9.9”, "
            "which the product tree does not define.",
        ),
        (
            ("vulnerabilities", 0, "scores", 0, "cvss_v3", "vectorString"),
            "CVSS:3.1/AV:N/AC:L",
            "“vulnerabilities[0].scores[0].cvss_v3.vectorString”: The CVSS vector lacks the "
            "required metrics PR, UI, S, C, I, A.",
        ),
        (
            ("product_tree", "branches", 0, "branches", 0, "branches", 1, "product"),
            {"name": "no id"},
            "“product_tree.branches[0].branches[0].branches[1].product.product_id” is missing.",
        ),
    ],
)
def test_r67_3_5_csaf_bad_parts_are_named(
    path: tuple[str | int, ...], value: Any, message: str
) -> None:
    doc = csaf_advisory()
    target: Any = doc
    for step in path[:-1]:
        target = target[step]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    assert message in str(problem(as_bytes(doc), from_csaf))


def test_r67_3_5_csaf_without_any_cve_is_refused() -> None:
    doc = csaf_advisory()
    for vuln in doc["vulnerabilities"]:
        del vuln["cve"]
    assert str(problem(doc)) == "The advisory names no CVE id (“vulnerabilities[].cve”)."


def test_r67_3_5_csaf_text_is_cleaned_of_nul_characters() -> None:
    doc = csaf_advisory()
    doc["document"]["title"] = "Example\u0000 Gateway "
    assert from_csaf(doc).title == "Example Gateway"


# --- Files that are not what they should be ---------------------------------------------------


def test_r67_3_5_not_json_says_where() -> None:
    caught = problem(b"<?xml version='1.0'?>\n<cvrfdoc/>")
    assert str(caught) == "The file is not valid JSON: line 1 column 1: a value is expected."


def test_r67_3_5_truncated_json_says_it_ends_too_early() -> None:
    text = as_bytes(csaf_advisory())
    for cut in (len(text) // 2, len(text) // 3, len(text) - 3, 1):
        caught = problem(text[:cut])
        assert str(caught).startswith("The file is not valid JSON: line ")
        assert str(caught).endswith(": the file ends too early; it may be cut off.")
    # Wherever the cut falls: inside a string, a number, "true", between elements, or inside
    # a multi-byte character ("búfer").
    text = as_bytes(nvd_response(nvd_cve()))
    for cut in range(1, len(text) - 1):
        caught = problem(text[:cut], load_json)
        assert "ends too early" in str(caught), (cut, text[:cut][-20:])


def test_r67_3_5_json_syntax_errors_name_line_and_column() -> None:
    caught = problem(b'{\n  "document": {\n    "title": "x"\n    "csaf_version": "2.0"}}')
    assert str(caught) == "The file is not valid JSON: line 4 column 5: a comma is expected."


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"  \n", "The file is empty."),
        (b"\xff\xfe{\x00}\x00", "The file is not UTF-8 text (an invalid byte at position 0)."),
        (b"[1, 2]", "The file should hold one JSON object; it holds a list."),
        (b'"CVE-2025-1"', "The file should hold one JSON object; it holds text."),
        (b'{"score": NaN}', "The file is not valid JSON: NaN is not a JSON number."),
        (b'{"n": ' + b"9" * 5000 + b"}", "The file is not valid JSON: "),
        (b'{"hello": "world"}', "The file is neither a CSAF 2.0 advisory"),
        (b'{"vulnerabilities": [{"cve": "CVE-2025-1"}]}', "“document” is missing."),
    ],
)
def test_r67_3_5_unusable_files_say_why(data: bytes, message: str) -> None:
    assert message in str(problem(data))


def test_r67_3_5_oversized_input_is_refused_before_parsing() -> None:
    doc = csaf_advisory()
    doc["document"]["notes"][0]["text"] = "x" * MAX_BYTES
    caught = problem(as_bytes(doc))
    assert str(caught) == "The file is too big: 32.0 MiB; at most 32 MiB is accepted."
    assert "too big" in str(problem(json.dumps(doc)))
    assert "too big" in str(problem(b" " * (MAX_BYTES + 1)))


def test_r67_3_5_deep_nesting_is_refused() -> None:
    deep = b'{"document": ' + b"[" * 100 + b"]" * 100 + b"}"
    assert str(problem(deep)) == "The file is nested too deeply (more than 64 levels)."
    # Deeper than Python's recursion limit: still a clear answer, not a crash.
    deeper = b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert "nested too deeply" in str(problem(deeper))
    # The limit counts the top-level object as level 1, in text and in parsed input alike.
    at_limit = b'{"a": ' + b"[" * 63 + b"]" * 63 + b', "s": "[[[[\\"{{{"}'
    assert load_json(at_limit)["s"] == '[[[["{{{'
    over = json.loads(at_limit.replace(b"[" * 63, b"[" * 64).replace(b"]" * 63, b"]" * 64))
    assert "nested too deeply" in str(problem(json.dumps(over), load_json))
    assert "nested too deeply" in str(problem(over, load_json))
    assert load_json(json.loads(at_limit))
    # Already parsed input (the API) is checked too.
    nested: dict[str, Any] = {}
    node = nested
    for _ in range(100):
        node["x"] = {}
        node = node["x"]
    assert "nested too deeply" in str(problem(nested, load_json))


def test_r67_3_5_problems_are_translated() -> None:
    from django.utils import translation

    with translation.override("ru"):
        message = str(problem(b"not json"))
    assert message  # a message in any case; its wording follows the .po catalogue
    with translation.override("en"):
        assert str(problem(b"not json")).startswith("The file is not valid JSON")


def test_r67_3_5_draft_from_file_is_independent_of_the_input() -> None:
    doc = csaf_advisory()
    before = copy.deepcopy(doc)
    from_csaf(doc)
    assert doc == before
