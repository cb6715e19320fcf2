from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from aips.core import menu
from aips.core.access import actor_perms


def shell(request: HttpRequest) -> dict[str, Any]:
    """What the page frame needs: branding, public contacts and the menu the user may see."""
    user = getattr(request, "user", None)
    perms = actor_perms(user)
    sections = (
        menu.build(request, perms, is_center=bool(getattr(user, "is_center", False)))
        if user is not None and user.is_authenticated
        else []
    )
    return {
        "perms_granted": perms,
        "main_menu": sections,
        "main_menu_current": menu.current_label(sections),
        "aips_contact_phone": settings.AIPS_CONTACT_PHONE,
        "aips_contact_email": settings.AIPS_CONTACT_EMAIL,
        "aips_official_domain": settings.AIPS_OFFICIAL_DOMAIN,
        "aips_center_name": settings.AIPS_CENTER_NAME,
        # The product's branding (settings: AIPS_SITE_*; the ETP has its own, R57.26.1).
        "site": {
            "product": settings.AIPS_PRODUCT,
            "name": settings.AIPS_SITE_NAME,
            "tagline": settings.AIPS_SITE_TAGLINE,
            "sign_in_title": settings.AIPS_SIGN_IN_TITLE,
            "owner": settings.AIPS_SITE_OWNER,
            "authority": settings.AIPS_SITE_AUTHORITY,
            "address_note": str(settings.AIPS_SITE_ADDRESS_NOTE)
            % {"domain": settings.AIPS_OFFICIAL_DOMAIN},
            "logo": settings.AIPS_SITE_LOGO,
            "stylesheet": settings.AIPS_SITE_STYLESHEET,
            # Sentences naming the product or its operator (settings: AIPS_SITE_TEXTS).
            "texts": settings.AIPS_SITE_TEXTS,
            "home_url": reverse(settings.AIPS_HOME_URL),
            "search_url": reverse(settings.AIPS_SEARCH_URL) if settings.AIPS_SEARCH_URL else "",
        },
        # Where static/aips/ncalayer.js finds NCALayer (pages that sign with EDS).
        "aips_ncalayer_url": settings.AIPS_NCALAYER_URL,
        "request_id": getattr(request, "request_id", ""),
        # Each language named in itself, never translated into the current one.
        "aips_languages": settings.LANGUAGES,
    }
