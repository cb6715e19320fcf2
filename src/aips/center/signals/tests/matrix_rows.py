"""This domain's rows of the authorization matrix (core/tests/test_authorization_matrix.py).

Bank A's objects: its integration module and three of its signals (sent through the ingest
service), and a correlation finding on an address that bank A, bank B and the MFO all saw.
Signals are bank A's: bank B gets 404 where it holds signal:view; the auditor lacks signal:view
(403). Findings span organizations: only the center's analysts and administrators reach them.
No person may send signals: the ingest endpoint takes only a module's credentials (401)."""

from typing import Any

from aips.core.tests.matrix import CENTER, Row, only, statuses

VIEWERS = (
    "center_admin",
    "center_analyst",
    "bank_a_head",
    "bank_a_maker",
    "bank_a_viewer",
    "bank_b_head",
    "bank_b_maker",
)
FINDERS = ("center_admin", "center_analyst")
SHARED_IP = "185.220.101.4"
SIGNAL = lambda o: {"seq": o["signal_a"].seq}  # noqa: E731
FINDING = lambda o: {"pk": o["finding"].pk}  # noqa: E731
API_FINDING = lambda o: {"finding_id": o["finding"].pk}  # noqa: E731
_ = CENTER  # the auditor is a center persona without signal:view


def matrix_objects(personas: dict[str, Any]) -> dict[str, Any]:
    """Bank A's objects of this domain that the matrix requests as every persona."""
    from aips.center.signals import services
    from aips.center.signals.models import CorrelationFinding, Signal
    from aips.center.signals.tests.factories import ingest, module_actor, signal

    actors = [
        module_actor(personas[key].organization)
        for key in ("bank_a_head", "bank_b_head", "mfo_head")
    ]
    bank_a = actors[0]
    ingest(bank_a, [signal("ids"), signal("malware"), signal("phishing")])
    for actor in actors:
        ingest(actor, [signal("scan", src_ip=SHARED_IP)])
    services.correlate()
    finding = CorrelationFinding.objects.get(value=SHARED_IP)
    first = Signal.objects.filter(organization_id=bank_a.organization_id).order_by("seq").first()
    return {"signal_a": first, "finding": finding, "signal_module_a": bank_a}


def _viewers(ok: int, *, anon: int, **extra: int) -> dict[str, int]:
    return only(ok, VIEWERS, anon=anon, **extra)


B_404 = {"bank_b_head": 404, "bank_b_maker": 404}

ROWS: list[Row] = [
    # --- web UI --------------------------------------------------------------------------
    Row("signals:list", "GET", _viewers(200, anon=302)),
    Row("signals:dashboard", "GET", _viewers(200, anon=302)),
    Row("signals:indicator", "GET", _viewers(200, anon=302)),
    Row("signals:detail", "GET", _viewers(200, anon=302, **B_404), kwargs=SIGNAL),
    Row("signals:findings", "GET", only(200, FINDERS)),
    Row("signals:finding", "GET", only(200, FINDERS), kwargs=FINDING),
    Row("signals:finding_promote", "POST", only(302, FINDERS), kwargs=FINDING),
    # No alert chosen: the finding stays open and the page says why (302 back to it).
    Row("signals:finding_link", "POST", only(302, FINDERS), kwargs=FINDING, data={"alert": ""}),
    Row(
        "signals:finding_dismiss",
        "POST",
        only(302, FINDERS),
        kwargs=FINDING,
        data={"reason": "a CDN address", "confirm": "yes"},
    ),
    # --- API -----------------------------------------------------------------------------
    Row("api:signals_ingest", "POST", statuses(401), data=[], api=True),  # type: ignore[arg-type]
    Row("api:signals_list", "GET", _viewers(200, anon=401), api=True),
    Row("api:signals_get", "GET", _viewers(200, anon=401, **B_404), kwargs=SIGNAL, api=True),
    Row("api:signals_histogram", "GET", _viewers(200, anon=401), api=True),
    Row(
        "api:signals_indicator",
        "GET",
        _viewers(200, anon=401),
        kwargs=lambda o: {"value": SHARED_IP},
        api=True,
    ),
    Row("api:correlations_list", "GET", only(200, FINDERS, anon=401), api=True),
    Row("api:correlations_get", "GET", only(200, FINDERS, anon=401), kwargs=API_FINDING, api=True),
    Row(
        "api:correlations_promote",
        "POST",
        only(200, FINDERS, anon=401),
        kwargs=API_FINDING,
        api=True,
    ),
    Row(
        "api:correlations_dismiss",
        "POST",
        only(200, FINDERS, anon=401),
        kwargs=API_FINDING,
        data={"reason": "a CDN address", "confirm": "yes"},
        api=True,
    ),
]
