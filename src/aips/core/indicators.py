"""Indicators of compromise (IPs, domains, URLs, hashes, e-mail addresses): detected, validated
and normalized once, for incident cards, alerts and signals alike."""

import ipaddress
import re
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

KINDS = ("ip", "cidr", "domain", "url", "md5", "sha1", "sha256", "email")
# What a reader sees for a type; the stored codes are the API's and never shown on a page.
# Signals' sightings use "hash" for any digest.
TYPE_LABELS = {
    "ip": gettext_lazy("IP address"),
    "cidr": gettext_lazy("Network (CIDR)"),
    "domain": gettext_lazy("Domain"),
    "url": gettext_lazy("URL"),
    "md5": gettext_lazy("MD5 hash"),
    "sha1": gettext_lazy("SHA-1 hash"),
    "sha256": gettext_lazy("SHA-256 hash"),
    "hash": gettext_lazy("File hash"),
    "email": gettext_lazy("E-mail address"),
}
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_HASH_LENGTHS = {32: "md5", 40: "sha1", 64: "sha256"}
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")


def type_label(code: str) -> str:
    """The type's name in the reader's language; an unknown code as it is."""
    label = TYPE_LABELS.get(code)
    return str(label) if label is not None else code


def _domain(text: str) -> str | None:
    name = text.strip().rstrip(".").lower()
    # Defanged forms analysts paste: example[.]com
    name = name.replace("[.]", ".").replace("(.)", ".")
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = name.split(".")
    if len(labels) < 2 or len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        return None
    if labels[-1].isdigit():
        return None
    return name


def normalize_indicator(raw: str) -> dict[str, str]:
    """{"type", "value"} for one indicator; raises ValueError with a user-facing message."""
    text = raw.strip()
    if not text:
        raise ValueError(_("Empty indicator."))
    if len(text) > 2048:
        raise ValueError(_("Indicator too long."))
    refanged = text.replace("hxxp", "http").replace("[:]", ":").replace("[.]", ".")
    try:
        return {"type": "ip", "value": str(ipaddress.ip_address(refanged))}
    except ValueError:
        pass
    if "/" in refanged and "://" not in refanged:
        try:
            return {"type": "cidr", "value": str(ipaddress.ip_network(refanged, strict=False))}
        except ValueError:
            pass
    if _HEX.match(text) and len(text) in _HASH_LENGTHS:
        return {"type": _HASH_LENGTHS[len(text)], "value": text.lower()}
    if "://" in refanged:
        parts = urlsplit(refanged)
        host = _domain(parts.hostname or "") if parts.hostname else None
        if parts.scheme.lower() not in ("http", "https", "ftp") or not (
            host or _is_ip(parts.hostname or "")
        ):
            raise ValueError(_("“%(value)s” is not a valid URL.") % {"value": text[:100]})
        netloc = parts.netloc.lower()
        return {
            "type": "url",
            "value": urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, "")),
        }
    if "@" in refanged:
        address = refanged.lower()
        try:
            validate_email(address)
        except ValidationError as exc:
            raise ValueError(
                _("“%(value)s” is not a valid e-mail address.") % {"value": text[:100]}
            ) from exc
        return {"type": "email", "value": address}
    domain = _domain(refanged)
    if domain:
        return {"type": "domain", "value": domain}
    raise ValueError(
        _("“%(value)s” is not an IP address, domain, URL, hash or e-mail address.")
        % {"value": text[:100]}
    )


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def normalize_indicators(raw: list[str]) -> list[dict[str, str]]:
    """Normalized and de-duplicated, order kept; the first bad one raises ValueError."""
    out: list[dict[str, str]] = []
    for item in raw:
        if not str(item).strip():
            continue
        indicator = normalize_indicator(str(item))
        if indicator not in out:
            out.append(indicator)
    return out


def normalize_cves(raw: list[str]) -> list[str]:
    out: list[str] = []
    for item in raw:
        text = str(item).strip().upper()
        if not text:
            continue
        if not CVE.match(text):
            raise ValueError(
                _("“%(value)s” is not a CVE id (CVE-YYYY-NNNN).") % {"value": text[:40]}
            )
        if text not in out:
            out.append(text)
    return out
