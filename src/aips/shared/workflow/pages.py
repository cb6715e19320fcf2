"""What every workflow item's page shows the same way: the timeline (each status change with who,
when and from → to, with the comments and internal notes between them), the reason an item was
returned, and a readable difference between two submitted versions.

The pages render these through the shared partials `workflow/_timeline.html`,
`workflow/_returned.html` and `workflow/_diff.html`."""

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from aips.core.indicators import type_label
from aips.shared.workflow.engine import Machine
from aips.shared.workflow.models import Comment, StateChange, WorkflowItem

# Transitions whose reason is shown at the top of the page while the item sits in their target.
RETURN_STEPS = frozenset({"return", "return_answer", "center_return_answer", "send_back"})


@dataclass
class Entry:
    """One line of the timeline: a status change (with its reason, if one was given) or a
    comment or internal note."""

    at: datetime
    who: str
    kind: str  # "step" | "comment" | "note"
    action: str = ""
    from_label: str = ""
    to_label: str = ""
    body: str = ""
    transition: str = ""
    to_state: str = ""


@dataclass
class Returned:
    reason: str
    who: str
    at: datetime | None
    action: str


def _name(person: Any) -> str:
    if person is None:
        return _("the system")
    return str(getattr(person, "full_name", "") or getattr(person, "email", "") or person)


def timeline(
    *, item: models.Model, machine: Machine, comments: Iterable[Comment], steps: bool = True
) -> list[Entry]:
    """The item's history, oldest first. A transition's reason (the comment the engine stored
    with it) joins its step instead of standing alone. `steps=False` for readers who see the
    comments only through the item's own rules (none: callers pass what they may see)."""
    entries: list[Entry] = []
    pending: dict[str, list[Comment]] = {}
    for c in comments:
        if c.transition and steps:
            pending.setdefault(c.transition, []).append(c)
            continue
        entries.append(
            Entry(
                at=c.created_at,
                who=_name(c.author),
                kind="note" if c.internal else "comment",
                body=c.body,
                transition=c.transition,
                action=_step_label(machine, c.transition) if c.transition else "",
            )
        )
    if steps:
        for s in StateChange.objects.for_item(item).select_related("actor"):
            entry = Entry(
                at=s.at,
                who=_name(s.actor),
                kind="step",
                action=_step_label(machine, s.transition),
                from_label=_state_label(machine, s.from_state),
                to_label=_state_label(machine, s.to_state),
                transition=s.transition,
                to_state=s.to_state,
            )
            # The engine writes the step and its reason in one transaction, in that order.
            reasons = pending.get(s.transition)
            if reasons:
                entry.body = reasons.pop(0).body
            entries.append(entry)
        for rest in pending.values():
            entries.extend(
                Entry(
                    at=c.created_at,
                    who=_name(c.author),
                    kind="comment",
                    body=c.body,
                    transition=c.transition,
                    action=_step_label(machine, c.transition),
                )
                for c in rest
            )
    entries.sort(key=lambda e: (e.at, 0 if e.kind == "step" else 1))
    return entries


def returned(item: WorkflowItem, entries: list[Entry]) -> Returned | None:
    """Why the item sits in a returned (or sent-back) state now: the latest such step's reason."""
    for e in reversed(entries):
        if e.kind == "step" and e.transition in RETURN_STEPS:
            if e.to_state != item.state:
                return None
            return Returned(reason=e.body, who=e.who, at=e.at, action=e.action)
    return None


def _step_label(machine: Machine, name: str) -> str:
    step = machine.transitions.get(name)
    return str(step.label) if step else name


def _state_label(machine: Machine, state: str) -> str:
    label = machine.states.get(state)
    return str(label) if label is not None else state


# --- the difference between two submitted versions --------------------------------------------


@dataclass
class Change:
    label: str
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)


def _lines(value: Any) -> list[str]:
    """A value as the lines a reader compares: one per list element, an indicator as its type's
    name and its value, text split on line breaks; nothing for an empty value."""
    if value is None or value == "" or value == [] or value == {}:
        return []
    if isinstance(value, bool):
        return [_("Yes") if value else _("No")]
    if isinstance(value, list):
        return [line for element in value for line in _lines(element)]
    if isinstance(value, Mapping):
        if set(value) >= {"type", "value"}:
            return [f"{type_label(str(value['type']))}: {value['value']}"]
        return [f"{capfirst(str(k))}: {v}" for k, v in value.items()]
    return [line for line in str(value).splitlines() if line.strip()] or [str(value)]


def readable_diff(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    *,
    model: type[models.Model] | None = None,
    labels: Mapping[str, str] | None = None,
    value_lines: Callable[[str, Any], list[str]] | None = None,
) -> list[Change]:
    """Field-by-field changes, each under the field's label (the model's verbose name unless
    `labels` names it), as removed and added lines: a list or a text shows only the elements or
    lines that came or went."""
    changes: list[Change] = []
    for name in [*old, *(k for k in new if k not in old)]:
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        if value_lines is not None:
            was, now = value_lines(name, before), value_lines(name, after)
        else:
            was, now = _lines(before), _lines(after)
        removed, added = _line_changes(was, now)
        if not removed and not added:
            continue
        label = _field_label(name, model, labels)
        changes.append(Change(label=label, removed=removed, added=added))
    return changes


def _line_changes(was: list[str], now: list[str]) -> tuple[list[str], list[str]]:
    """The lines that went and came, in order; unchanged lines (an indicator kept, a paragraph
    left alone) are not repeated."""
    removed: list[str] = []
    added: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=was, b=now, autojunk=False).get_opcodes():
        if tag in ("replace", "delete"):
            removed.extend(was[i1:i2])
        if tag in ("replace", "insert"):
            added.extend(now[j1:j2])
    return removed, added


def _field_label(
    name: str, model: type[models.Model] | None, labels: Mapping[str, str] | None
) -> str:
    if labels and name in labels:
        return str(labels[name])
    if model is not None:
        try:
            label = getattr(model._meta.get_field(name), "verbose_name", None)
            if label:
                return str(capfirst(str(label)))
        except FieldDoesNotExist:
            pass
    return capfirst(name.replace("_", " "))


def item_context(
    *,
    item: WorkflowItem,
    machine: Machine,
    comments: Iterable[Comment],
    versions: list[Any],
    model: type[models.Model] | None = None,
    steps: bool = True,
) -> dict[str, Any]:
    """The template context the shared partials read: `entries`, `returned`, and the change
    between the last two submitted versions (`changes`, `old_number`, `new_number`)."""
    entries = timeline(item=item, machine=machine, comments=comments, steps=steps)
    changes: list[Change] = []
    old_number = new_number = 0
    if len(versions) > 1:
        old, new = versions[-2], versions[-1]
        changes = readable_diff(old.snapshot or {}, new.snapshot or {}, model=model)
        old_number, new_number = old.number, new.number
    return {
        "entries": entries,
        "returned": returned(item, entries) if steps else None,
        "changes": changes,
        "old_number": old_number,
        "new_number": new_number,
        "versions_count": len(versions),
    }
