"""`{{ value|indicator_url }}`: the indicator page of a value, so that every occurrence of an
indicator on any page (a card's or an alert's list, a signal, a finding) links to one page.
`{{ code|indicator_type }}`: a stored type code (`ip`) as the reader's words ("IP address")."""

from django import template
from django.urls import reverse
from django.utils.http import urlencode

from aips.core.indicators import type_label

register = template.Library()


@register.filter
def indicator_url(value: object) -> str:
    text = str(value or "").strip()[:2048]
    return f"{reverse('core:indicator')}?{urlencode({'value': text})}" if text else ""


@register.filter
def indicator_type(code: object) -> str:
    return type_label(str(code or ""))
