"""The API shapes every workflow item shares: a transition's comment, a comment in and out."""

from datetime import datetime

from ninja import Schema
from pydantic import WithJsonSchema

from aips.core.strings import RequiredText
from aips.shared.workflow.engine import Machine


def transition_names(machine: Machine) -> WithJsonSchema:
    """The schema of a transition endpoint's `{name}`: the names `machine` knows (R57.28.4), so a
    client reading the schema finds them. The value stays a string: any other name is answered by
    the engine as before (404 `unknown_transition`), which is what a missing resource gets."""
    return WithJsonSchema({"type": "string", "enum": sorted(machine.transitions)})


class TransitionIn(Schema):
    comment: str = ""


class CommentIn(Schema):
    body: RequiredText
    internal: bool = False


class CommentOut(Schema):
    id: int
    author_id: int
    body: str
    internal: bool
    transition: str
    created_at: datetime
