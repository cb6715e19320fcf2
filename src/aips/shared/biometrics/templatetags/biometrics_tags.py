"""`{% biometrics_enabled as on %}`: whether a provider is configured, for the pages of other
apps that offer a biometric check (sign-in, invitation, password change)."""

from django import template

from aips.shared.biometrics.providers import enabled

register = template.Library()


@register.simple_tag
def biometrics_enabled() -> bool:
    return enabled()
