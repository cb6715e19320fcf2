"""The readable difference between two submitted versions (issue 15, item 5)."""

from aips.center.incidents.models import IncidentCard
from aips.shared.workflow.pages import readable_diff


def test_r67_3_4_diff_uses_labels_and_lines_never_program_data() -> None:
    old = {
        "indicators": [{"type": "ip", "value": "203.0.113.7"}, {"type": "domain", "value": "a.kz"}],
        "impact": "One\nTwo",
        "cve_ids": ["CVE-2024-0001"],
        "title": "Same",
        "extra_flag": False,
    }
    new = {
        "indicators": [{"type": "domain", "value": "a.kz"}, {"type": "url", "value": "http://b"}],
        "impact": "One\nThree",
        "cve_ids": [],
        "title": "Same",
        "extra_flag": True,
    }
    changes = {c.label: (c.removed, c.added) for c in readable_diff(old, new, model=IncidentCard)}
    assert changes == {
        "Indicators of compromise": (["IP address: 203.0.113.7"], ["URL: http://b"]),
        "Impact": (["Two"], ["Three"]),
        "Exploited vulnerabilities (CVE)": (["CVE-2024-0001"], []),
        "Extra flag": (["No"], ["Yes"]),
    }


def test_r67_3_4_diff_of_equal_versions_is_empty() -> None:
    same = {"impact": "x", "indicators": [{"type": "ip", "value": "203.0.113.7"}]}
    assert readable_diff(same, dict(same), model=IncidentCard) == []
