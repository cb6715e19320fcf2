"""CSAF's distribution files read for the advisories they list (CSAF 2.0 section 7): a ROLIE
feed (`feed.entry[]`, each with the advisory's URL and maybe its `.sha256` / `.sha512` link), a
provider's metadata (`provider-metadata.json`: its ROLIE feeds and directories) and a directory's
`index.txt`.

Pure functions like the importers (decision 0030): bytes in, lists of URLs out; `ImportProblem`
names what is wrong. Relative links are taken relative to the file's own URL when it has one.
"""

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urljoin, urlsplit

from django.utils.translation import gettext as _

from aips.center.alerts.importers import MAX_URL, ImportProblem, load_json

__all__ = [
    "MAX_DOCUMENTS",
    "ListedDocument",
    "Listing",
    "read_distribution",
    "read_index_txt",
]

# One batch takes at most this many advisories: a provider's whole archive (Red Hat's runs to
# tens of thousands) is not a batch an analyst reviews; the rest is reported, never dropped
# silently.
MAX_DOCUMENTS = 1000

SourceKind = Literal["rolie_feed", "provider_metadata"]


@dataclass(frozen=True)
class ListedDocument:
    url: str
    hash_url: str = ""  # the `.sha512` (preferred) or `.sha256` link the feed names


@dataclass
class Listing:
    kind: SourceKind
    title: str
    documents: list[ListedDocument]
    # More files to read for documents: a provider's ROLIE feeds and directories' index.txt.
    sources: list[str]


def _absolute(base: str, href: str) -> str | None:
    href = href.strip()
    if not href or len(href) > MAX_URL:
        return None
    url = urljoin(base, href) if base else href
    return url if urlsplit(url).scheme in ("https", "http") else None


def _links(entry: dict[str, object]) -> list[dict[str, object]]:
    links = entry.get("link")
    if isinstance(links, dict):
        links = [links]
    return [link for link in links if isinstance(link, dict)] if isinstance(links, list) else []


def _entry(entry: dict[str, object], base: str) -> ListedDocument | None:
    url = None
    content = entry.get("content")
    if isinstance(content, dict) and isinstance(content.get("src"), str):
        url = _absolute(base, str(content["src"]))
    hashes: dict[str, str] = {}
    for link in _links(entry):
        rel, href = link.get("rel"), link.get("href")
        if not isinstance(href, str):
            continue
        if rel == "self" and url is None:
            url = _absolute(base, href)
        elif rel == "hash":
            absolute = _absolute(base, href)
            suffix = href.rsplit(".", 1)[-1].lower()
            if absolute and suffix in ("sha256", "sha512"):
                hashes[suffix] = absolute
    if url is None:
        return None
    return ListedDocument(url=url, hash_url=hashes.get("sha512") or hashes.get("sha256", ""))


def read_distribution(data: bytes | str, *, url: str = "") -> Listing:
    """What a ROLIE feed or a provider-metadata.json lists; anything else is an ImportProblem."""
    doc = load_json(data)
    feed = doc.get("feed")
    if isinstance(feed, dict):
        entries = feed.get("entry")
        if not isinstance(entries, list):
            entries = []
        documents: list[ListedDocument] = []
        seen: set[str] = set()
        for entry in entries:
            listed = _entry(entry, url) if isinstance(entry, dict) else None
            if listed is not None and listed.url not in seen:
                seen.add(listed.url)
                documents.append(listed)
        return Listing(
            kind="rolie_feed",
            title=str(feed.get("title") or "")[:300],
            documents=documents,
            sources=[],
        )
    if "canonical_url" in doc and ("metadata_version" in doc or "role" in doc):
        publisher = doc.get("publisher")
        name = publisher.get("name") if isinstance(publisher, dict) else ""
        base = url or str(doc.get("canonical_url") or "")
        sources: list[str] = []
        distributions = doc.get("distributions")
        for distribution in distributions if isinstance(distributions, list) else []:
            if not isinstance(distribution, dict):
                continue
            rolie = distribution.get("rolie")
            feeds = rolie.get("feeds") if isinstance(rolie, dict) else None
            for feed_ref in feeds if isinstance(feeds, list) else []:
                href = feed_ref.get("url") if isinstance(feed_ref, dict) else None
                absolute = _absolute(base, href) if isinstance(href, str) else None
                if absolute and absolute not in sources:
                    sources.append(absolute)
            directory = distribution.get("directory_url")
            if isinstance(directory, str):
                absolute = _absolute(base, directory.rstrip("/") + "/index.txt")
                if absolute and absolute not in sources:
                    sources.append(absolute)
        if not sources:
            raise ImportProblem(
                _(
                    "The provider metadata names no ROLIE feed and no directory "
                    "(“distributions”), so it lists no advisories."
                ),
                "distributions",
            )
        return Listing(
            kind="provider_metadata", title=str(name or "")[:300], documents=[], sources=sources
        )
    if "document" in doc:
        raise ImportProblem(
            _(
                "This is a single advisory, not a ROLIE feed or provider metadata: import it "
                "with “Import an advisory”."
            )
        )
    if isinstance(doc.get("aggregator"), dict):
        raise ImportProblem(
            _(
                "This is the metadata of a CSAF aggregator (aggregator.json): start a batch "
                "from the provider-metadata.json of each provider it lists."
            )
        )
    raise ImportProblem(
        _(
            "The file is neither a ROLIE feed (it has no “feed”) nor a CSAF provider's "
            "metadata (provider-metadata.json)."
        )
    )


def read_index_txt(data: bytes, *, url: str) -> list[ListedDocument]:
    """A CSAF directory's index.txt: one advisory path per line, relative to the directory."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ImportProblem(_("The directory's index.txt is not UTF-8 text.")) from exc
    documents: list[ListedDocument] = []
    seen: set[str] = set()
    for line in text.splitlines():
        path = line.strip()
        if not path or path.startswith("#") or not path.lower().endswith(".json"):
            continue
        absolute = _absolute(url, path)
        if absolute and absolute not in seen:
            seen.add(absolute)
            documents.append(ListedDocument(url=absolute))
    return documents
