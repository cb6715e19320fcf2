"""GET /metrics: Prometheus text format, for the allowed addresses or the bearer token only."""

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from aips.core.access import public
from aips.core.metrics import CONTENT_TYPE, metrics_allowed, render


@require_GET
@public
def metrics(request: HttpRequest) -> HttpResponse:
    # Anyone else gets the site's ordinary 404: the page does not admit it exists.
    if not metrics_allowed(request):
        raise Http404
    response = HttpResponse(render(), content_type=CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response
