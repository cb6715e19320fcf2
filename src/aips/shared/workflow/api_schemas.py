"""The API shapes every workflow item shares: a transition's comment, a comment in and out."""

from datetime import datetime

from ninja import Schema

from aips.core.strings import RequiredText


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
