"""`{{ value|indicator_url }}`: the indicator page of a value, so that every occurrence of an
indicator on any page (a card's or an alert's list, a signal, a finding) links to one page."""

from django import template
from django.urls import reverse
from django.utils.http import urlencode

register = template.Library()


@register.filter
def indicator_url(value: object) -> str:
    text = str(value or "").strip()[:2048]
    return f"{reverse('core:indicator')}?{urlencode({'value': text})}" if text else ""
