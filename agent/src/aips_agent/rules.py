"""Mapping rules as data: the shipped defaults (default_rules.toml, beside this module) and the
checks an administrator's own rules get at configuration load. A rule says what a record IS
(vendor, product, signature, category; Wazuh rule groups) and which signal kind, if any, it
becomes; `ignore` drops it, counted. Rules are tried in order, the administrator's first."""

import re
import tomllib
from functools import cache
from importlib import resources
from typing import Any

from aips_agent import signals as s

CEF_TARGETS = (*s.KINDS, "auth_failure", "connection", "ignore")
WAZUH_TARGETS = (*s.KINDS, "auth_failure", "ignore")
CEF_PATTERNS = ("vendor", "product", "category", "name", "signature_id")
CEF_KEYS = frozenset({"kind", "label", "ext", "fields", *CEF_PATTERNS})
WAZUH_KEYS = frozenset({"kind", "label", "groups", "rule_id", "where", "min_level", "fields"})


@cache
def shipped() -> dict[str, list[dict[str, Any]]]:
    """The shipped rules: {"cef": [...], "wazuh": [...]}."""
    text = resources.files("aips_agent").joinpath("default_rules.toml").read_text("utf-8")
    data = tomllib.loads(text)
    return {"cef": list(data.get("cef", [])), "wazuh": list(data.get("wazuh", []))}


def _pattern(value: Any, where: str, problems: list[str]) -> None:
    if not isinstance(value, str):
        problems.append(f"{where}: expected a string (a regular expression), got {value!r}")
        return
    try:
        re.compile(value)
    except re.error as exc:
        problems.append(f"{where}: not a regular expression: {exc}")


def check_cef_rule(rule: Any, where: str) -> list[str]:
    """Problems of one CEF rule, each naming its key (`where` ends with `.`)."""
    if not isinstance(rule, dict):
        return [f"{where.rstrip('.')}: must be a table"]
    problems = [f"{where}{key}: unknown setting" for key in sorted(set(rule) - CEF_KEYS)]
    if rule.get("kind") not in CEF_TARGETS:
        problems.append(f"{where}kind: one of {', '.join(CEF_TARGETS)}")
    for key in CEF_PATTERNS:
        if key in rule:
            _pattern(rule[key], f"{where}{key}", problems)
    _tables(rule, where, problems, "ext", pattern=True)
    _fields(rule, where, problems)
    return problems


def check_wazuh_rule(rule: Any, where: str) -> list[str]:
    if not isinstance(rule, dict):
        return [f"{where.rstrip('.')}: must be a table"]
    problems = [f"{where}{key}: unknown setting" for key in sorted(set(rule) - WAZUH_KEYS)]
    if rule.get("kind") not in WAZUH_TARGETS:
        problems.append(f"{where}kind: one of {', '.join(WAZUH_TARGETS)}")
    groups = rule.get("groups", [])
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        problems.append(f"{where}groups: a list of Wazuh rule group names")
    if "rule_id" in rule:
        _pattern(rule["rule_id"], f"{where}rule_id", problems)
    if "min_level" in rule and (
        not isinstance(rule["min_level"], int) or isinstance(rule["min_level"], bool)
    ):
        problems.append(f"{where}min_level: expected an integer")
    _tables(rule, where, problems, "where", pattern=True)
    _fields(rule, where, problems)
    return problems


def _tables(
    rule: dict[str, Any], where: str, problems: list[str], key: str, *, pattern: bool
) -> None:
    table = rule.get(key, {})
    if not isinstance(table, dict):
        problems.append(f"{where}{key}: must be a table")
        return
    for name, value in table.items():
        if pattern:
            _pattern(value, f"{where}{key}.{name}", problems)


def _fields(rule: dict[str, Any], where: str, problems: list[str]) -> None:
    table = rule.get("fields", {})
    if not isinstance(table, dict):
        problems.append(f"{where}fields: must be a table")
        return
    kind = rule.get("kind")
    allowed = s.FIELDS.get(kind, frozenset()) if isinstance(kind, str) else frozenset()
    for name, value in table.items():
        if allowed and name not in allowed:
            problems.append(f"{where}fields.{name}: {kind} signals have no such field")
        if not isinstance(value, str):
            problems.append(f"{where}fields.{name}: expected a string (where the record keeps it)")
