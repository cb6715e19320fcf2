"""The product's sentences in the platform's texts (settings.AIPS_SITE_TEXTS): the platform names
no product, so where a page, an e-mail or a message must say "AIPS" or "the center" it asks for
the sentence by key, and the deployment's settings answer in AIPS's or the ETP's words."""

from django.conf import settings
from django.utils.functional import lazy


def site_text(key: str) -> str:
    """The sentence `key` in the active language (a missing key is a bug: KeyError)."""
    return str(settings.AIPS_SITE_TEXTS[key])


# For class attributes and module constants, translated when shown.
site_text_lazy = lazy(site_text, str)
