"""URL names say which app they belong to, and renaming them never moves an address.

`url_paths.txt` is the list of every route as it was before the URL names were namespaced;
a path that appears, disappears or changes its converter fails here, so a bookmark, a link in
an e-mail already sent, or an API client keeps working. When a route is added on purpose, add
its line to the file in the same change."""

from collections import Counter
from pathlib import Path
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

FIXTURE = Path(__file__).with_name("url_paths.txt")


def _routes() -> list[tuple[str, str, str]]:
    """(path, namespace, name) of every route, the path as a browser would write it."""
    found: list[tuple[str, str, str]] = []

    def walk(patterns: list[Any], prefix: str, namespace: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                inner = f"{namespace}{p.namespace}:" if p.namespace else namespace
                walk(p.url_patterns, prefix + str(p.pattern), inner)
            elif isinstance(p, URLPattern):
                found.append((prefix + str(p.pattern), namespace, str(p.name)))

    walk(get_resolver().url_patterns, "/", "")
    return found


def test_every_url_path_is_unchanged() -> None:
    expected = Counter(FIXTURE.read_text().splitlines())
    actual = Counter(path for path, _namespace, _name in _routes())
    assert actual == expected, {
        "added": sorted((actual - expected).elements()),
        "gone": sorted((expected - actual).elements()),
    }


def test_every_url_name_is_namespaced() -> None:
    bare = [f"{path} ({name})" for path, namespace, name in _routes() if not namespace]
    assert not bare, f"give these apps' urls.py an app_name: {bare}"


def test_each_app_namespace_is_its_package_name() -> None:
    """`incidents:detail` lives in `aips.center.incidents.urls`: the name tells where to look."""
    wrong = []
    for resolver in get_resolver().url_patterns:
        if not isinstance(resolver, URLResolver) or resolver.namespace == "api":
            continue
        module = str(getattr(resolver.urlconf_module, "__name__", ""))
        package = module.rsplit(".", 2)[-2]
        if resolver.namespace != package:
            wrong.append(f"{module}: app_name {resolver.namespace!r}, expected {package!r}")
    assert not wrong, wrong
