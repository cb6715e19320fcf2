"""R67.3.8: every kind of signal the agent makes passes the server's own schema-v1 validation
(`aips.center.signals.schema.decode_item`), run in a separate interpreter so that the agent's
code and tests never import the server. Catches drift between the two sides early."""

import json
import subprocess
import sys
from datetime import UTC, datetime
from importlib.util import find_spec
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from aips_agent import signals as s
from aips_agent.cef import cef_mapper
from aips_agent.detectors import Detectors, Thresholds
from aips_agent.events import AuthFailure, Connection, Dropped, Malformed, NoEventTime
from aips_agent.mappers import FACTORIES, MapContext

DATA = Path(__file__).parent / "data"
SAMPLES_DAY = datetime(2026, 11, 23, tzinfo=UTC)
CHECK = """
import json, sys
from datetime import datetime, timedelta
from aips.center.signals import schema
now = datetime.fromisoformat(sys.argv[1])
bad = {}
for line in sys.stdin.buffer:
    try:
        schema.decode_item(line, now=now, max_age=timedelta(days=3650))
    except schema.ItemInvalid as exc:
        bad[line.decode()[:200]] = exc.fields
print(json.dumps(bad))
"""
JSONL = {
    "kind": "phishing",
    "match": {"verdict": "phishing"},
    "fields": {
        "observed_at": "ts",
        "sender": "envelope.from",
        "subject": "subject",
        "urls": "links",
        "attachment_hashes": "attachments.0.sha256",
    },
}
FILES = {
    "suricata_eve": ("eve.json", {}),
    "modsecurity": ("modsec_audit.json", {}),
    "wazuh": ("wazuh_alerts.json", {}),
    "clamav": ("clamav.log", {}),
    "jsonl": ("mailgw.jsonl", JSONL),
    "sshd": ("auth.log", {}),
    "windows_4625": ("win4625.json", {}),
    "cef": ("cef.log", {}),
}


@pytest.mark.skipif(find_spec("aips") is None, reason="the AIPS server is not installed")
def test_r67_3_8_every_kind_the_agent_sends_passes_the_servers_schema() -> None:
    tz = ZoneInfo("Asia/Almaty")
    # Two sets of detectors: an account under brute force is left out of spraying, so with a
    # brute-force threshold of 1 one set alone would never spray.
    detectors = Detectors(
        scan=Thresholds(threshold=1, external_only=False),
        brute_force=Thresholds(threshold=1),
        spraying=Thresholds(enabled=False),
        networks=s.Networks(),
        sensor="edge",
    )
    sprayers = Detectors(
        scan=Thresholds(enabled=False),
        brute_force=Thresholds(enabled=False),
        spraying=Thresholds(threshold=2),
        networks=s.Networks(),
        sensor="edge",
    )
    made: list[s.Signal] = []
    for kind, (file, options) in FILES.items():
        ctx = MapContext(sensor="edge", tz=tz, options=options)
        mapper = cef_mapper(ctx) if kind == "cef" else FACTORIES[kind](ctx)
        for line in (DATA / file).read_bytes().splitlines():
            try:
                items = mapper(line)
            except Malformed:
                continue
            for item in items:
                if isinstance(item, AuthFailure | Connection):
                    made += detectors.observe(item) + sprayers.observe(item)
                elif isinstance(item, Dropped | NoEventTime):
                    continue
                else:
                    made.append(item)
    made += detectors.flush() + sprayers.flush()  # the final reports pass too
    kinds = {type(x).__struct_config__.tag for x in made}
    assert kinds == set(s.KINDS)
    body = b"\n".join(s.encode(x) for x in made) + b"\n"
    result = subprocess.run(  # noqa: S603 - our own command, fixed arguments
        # The samples are of 22 November 2026; a record without a time is stamped now.
        [sys.executable, "-c", CHECK, max(datetime.now(UTC), SAMPLES_DAY).isoformat()],
        input=body,
        capture_output=True,
        timeout=120,
        check=False,
        env={"DJANGO_SETTINGS_MODULE": "aips.settings", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr.decode()
    assert json.loads(result.stdout) == {}
