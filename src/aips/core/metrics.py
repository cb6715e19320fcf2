"""Prometheus metrics: the request counters and the figures apps register, served at `/metrics`.

Two kinds of figures, so that the answer is right whichever gunicorn worker gives it:

* Request counts and durations (`aips_http_requests_total`, `aips_http_request_duration_seconds`)
  are counted in each process by `MetricsMiddleware`. Under gunicorn set
  `PROMETHEUS_MULTIPROC_DIR` (an empty, writable directory, emptied at each start): every process
  then writes its counts there and any process adds them all up when scraped
  (prometheus_client's multiprocess mode; `aips.gunicorn_conf.child_exit` marks dead workers).
  Without it, each process reports its own counts (the development server, tests).
* Everything else is a gauge read from the database at scrape time by the collectors apps
  register from their `AppConfig.ready()` (core knows no app, as with `core/jobs.py`):
  `register_metrics(name, fn)`, where `fn()` yields prometheus_client metric families (counts
  only: never an organization's name or any other tenant data in a label). A collector that fails
  is logged and reported as `aips_metrics_collector_up{collector=...} 0`; the others still answer.

Requests are labelled by route class (the resolved URL's namespace, `api:<router>` under the API,
or `unmatched`), method and status class (`2xx`…`5xx`), so the label set stays small whatever the
caller sends. Who may read `/metrics`: see `metrics_allowed`."""

import hmac
import ipaddress
import os
import time
from collections.abc import Callable, Iterable, Iterator
from functools import cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from aips.core.logging import get_logger
from aips.core.request_context import client_ip

log = get_logger("aips.core.metrics")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_REQUESTS_REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "aips_http_requests",
    "HTTP requests answered, by route class, method and status class.",
    ["route", "method", "status"],
    registry=_REQUESTS_REGISTRY,
)
DURATION = Histogram(
    "aips_http_request_duration_seconds",
    "Time to answer an HTTP request, by route class.",
    ["route"],
    registry=_REQUESTS_REGISTRY,
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

CollectFn = Callable[[], Iterable[Metric]]
_COLLECTORS: dict[str, CollectFn] = {}


def process_counter(name: str, documentation: str, labels: list[str]) -> Counter:
    """A counter kept by each process (summed across gunicorn workers in multiprocess mode), for
    events a product counts where they happen (signals accepted and rejected). Call once, at
    import time of the product's module."""
    return Counter(name, documentation, labels, registry=_REQUESTS_REGISTRY)


def register_metrics(name: str, fn: CollectFn) -> None:
    """Idempotent: registering a name again replaces its entry and keeps its place."""
    _COLLECTORS[name] = fn


def route_class(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    segments = [s for s in str(match.route or "").split("/") if s]
    if match.namespace == "api":
        router = segments[2] if len(segments) > 2 else ""
        return f"api:{router}" if router and "<" not in router else "api"
    if match.namespace:
        return str(match.namespace)
    return segments[0] if segments and "<" not in segments[0] else "root"


class MetricsMiddleware:
    """Counts every request that reaches Django (static files end earlier, in WhiteNoise)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        try:
            route = route_class(request)
            method = request.method if request.method in _METHODS else "other"
            REQUESTS.labels(route, method, f"{response.status_code // 100}xx").inc()
            DURATION.labels(route).observe(time.perf_counter() - started)
        except Exception:  # counting must never break an answer
            log.exception("metrics.count_failed")
        return response


class _AppCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "aips_metrics_collector_up",
            "1 when the named collector answered this scrape, 0 when it failed (see the log).",
            labels=["collector"],
        )
        for name, fn in list(_COLLECTORS.items()):
            try:
                families = list(fn())
            except Exception:
                log.exception("metrics.collector_failed", collector=name)
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from families
        yield up


class _LocalRequests(Collector):
    def collect(self) -> Iterator[Metric]:
        yield from _REQUESTS_REGISTRY.collect()


def render() -> bytes:
    """The whole exposition, Prometheus text format."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_LocalRequests())
    registry.register(_AppCollector())
    return generate_latest(registry)


@cache
def _networks(
    entries: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            log.warning("metrics.bad_allowed_address", entry=entry)
    return tuple(networks)


def metrics_allowed(request: HttpRequest) -> bool:
    """A scrape is served to a caller from `AIPS_METRICS_ALLOWED_IPS` (addresses or networks;
    default the loopback, 127.0.0.1 and ::1; the address as `client_ip` sees it, so behind
    AIPS_PROXY_COUNT proxies the one the outermost trusted proxy saw), or to one that sends
    `Authorization: Bearer <AIPS_METRICS_TOKEN>` when that token is set. Anyone else gets 404."""
    token: str = getattr(settings, "AIPS_METRICS_TOKEN", "")
    header = request.headers.get("Authorization", "")
    presented = header[len("Bearer ") :] if header.startswith("Bearer ") else ""
    if token and presented and hmac.compare_digest(presented.encode(), token.encode()):
        return True
    allowed: list[str] = getattr(settings, "AIPS_METRICS_ALLOWED_IPS", ["127.0.0.1", "::1"])
    ip = client_ip(request)
    if not ip:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in _networks(tuple(allowed)))
