"""Version ranges in the `vers` notation (CSAF `product_version_range`, package-url's vers spec),
read and said in words: "vers:semver/>=1.2.0|<1.4.3" → "from 1.2.0 up to but not including 1.4.3
(semver)".

Only the notation is read: the comparators and the versions as written. No versions are compared
(that would need each scheme's ordering rules), so the words follow the constraints in the order
the document gives them, which the spec requires to be ascending. A text that is not a valid
`vers:` range raises `VersError`; the pages then show it as written, with a note.
"""

import re
from dataclasses import dataclass
from urllib.parse import unquote

from django.utils.translation import gettext as _

__all__ = ["Constraint", "VersError", "VersRange", "find_vers", "parse_vers", "vers_text"]

_COMPARATORS = ("<=", ">=", "!=", "<", ">", "=")
_SCHEME = re.compile(r"[a-z][a-z0-9.+-]*")
# Long enough for any real range; a longer text is shown as written.
MAX_LENGTH = 1000


class VersError(ValueError):
    """Why a text is not a `vers:` range (English, for logs; the page says it in words)."""


@dataclass(frozen=True)
class Constraint:
    comparator: str  # one of _COMPARATORS, or "*" for every version
    version: str  # percent-decoded; "" for "*"


@dataclass(frozen=True)
class VersRange:
    scheme: str
    constraints: tuple[Constraint, ...]


def parse_vers(text: str) -> VersRange:
    """The scheme and constraints of a `vers:` range; spaces are ignored, as the spec says."""
    if len(text) > MAX_LENGTH:
        raise VersError("too long")
    compact = "".join(text.split())
    if not compact.lower().startswith("vers:"):
        raise VersError("no vers: prefix")
    scheme, slash, rest = compact[5:].partition("/")
    scheme = scheme.lower()
    if not slash or not _SCHEME.fullmatch(scheme):
        raise VersError("no versioning scheme")
    if not rest:
        raise VersError("no constraints")
    if rest == "*":
        return VersRange(scheme, (Constraint("*", ""),))
    constraints: list[Constraint] = []
    seen: set[str] = set()
    for part in rest.split("|"):
        if not part:
            raise VersError("empty constraint")
        comparator = next((c for c in _COMPARATORS if part.startswith(c)), "=")
        raw = part[len(comparator) :] if part.startswith(comparator) else part
        if "*" in raw:
            raise VersError("'*' must stand alone")
        version = unquote(raw)
        if not version or version[0] in "<>=!":
            raise VersError(f"no version in {part!r}")
        if version in seen:
            raise VersError(f"version {version!r} given twice")
        seen.add(version)
        constraints.append(Constraint(comparator, version))
    return VersRange(scheme, tuple(constraints))


def _lower(c: Constraint) -> bool:
    return c.comparator in (">", ">=")


def _upper(c: Constraint) -> bool:
    return c.comparator in ("<", "<=")


def _span(low: Constraint, high: Constraint) -> str:
    values = {"low": low.version, "high": high.version}
    if low.comparator == ">=":
        if high.comparator == "<":
            return _("from %(low)s up to but not including %(high)s") % values
        return _("from %(low)s up to and including %(high)s") % values
    if high.comparator == "<":
        return _("after %(low)s up to but not including %(high)s") % values
    return _("after %(low)s up to and including %(high)s") % values


def _single(c: Constraint) -> str:
    values = {"version": c.version}
    words = {
        "=": "%(version)s",
        ">=": _("%(version)s and later"),
        ">": _("later than %(version)s"),
        "<": _("before %(version)s"),
        "<=": _("up to and including %(version)s"),
    }
    return words[c.comparator] % values


def describe(vers: VersRange) -> str:
    """The range in words of the active language, e.g. "from 1.2.0 up to but not including
    1.4.3 (semver)"."""
    if vers.constraints[0].comparator == "*":
        return _("all versions (%(scheme)s)") % {"scheme": vers.scheme}
    kept = [c for c in vers.constraints if c.comparator != "!="]
    excluded = [c.version for c in vers.constraints if c.comparator == "!="]
    parts: list[str] = []
    i = 0
    while i < len(kept):
        here = kept[i]
        following = kept[i + 1] if i + 1 < len(kept) else None
        if _lower(here) and following is not None and _upper(following):
            parts.append(_span(here, following))
            i += 2
            continue
        parts.append(_single(here))
        i += 1
    if excluded:
        parts.append(_("except %(versions)s") % {"versions": ", ".join(excluded)})
    if not kept:
        parts.insert(0, _("all versions"))
    return _("%(ranges)s (%(scheme)s)") % {"ranges": "; ".join(parts), "scheme": vers.scheme}


def vers_text(text: str) -> str:
    """`text` in words; raises VersError when it is not a valid range."""
    return describe(parse_vers(text))


_FIND = re.compile(r"vers:\S.*", re.IGNORECASE | re.DOTALL)


def find_vers(text: str) -> tuple[str, str] | None:
    """(what comes before, the vers range) when `text` carries one, e.g. an importer's
    "fixed: vers:npm/<2.0.0"; None when it carries none."""
    match = _FIND.search(text)
    if match is None:
        return None
    return text[: match.start()], match.group(0)
