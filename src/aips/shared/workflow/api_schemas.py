"""The API shapes every workflow item shares: a transition's comment (and its EDS signature), a
comment in and out, an EDS-signed act and the document to sign."""

from datetime import datetime
from typing import Annotated

from django.http import HttpRequest
from ninja import Schema
from pydantic import Field, ValidationError, WithJsonSchema

from aips.core.api_parser import parse_json
from aips.core.errors import ValidationFailed
from aips.core.strings import RequiredText
from aips.shared.workflow.engine import Machine
from aips.shared.workflow.signing import MAX_SIGNATURE_CHARS

# Issue 16, item 4: the head's detached CMS (base64) over the act's canonical document, which
# `GET …/document` gives. Refusals are 422 with codes `eds_required` (the organization requires
# a signature), `eds_iin_not_bound` (the person has no bound IIN) and `eds_<reason>` from the
# verification (`eds_content_mismatch`, `eds_iin_mismatch`, `eds_wrong_key_usage`…).
EdsSignature = Annotated[
    str,
    Field(
        max_length=MAX_SIGNATURE_CHARS,
        description=(
            "Optional: the IS-unit head's detached CMS signature (base64) over the act's "
            "canonical document (GET …/document). Required when the organization requires "
            "EDS-signed approvals (422 eds_required); a refused signature is 422 eds_*."
        ),
    ),
]


def transition_names(machine: Machine) -> WithJsonSchema:
    """The schema of a transition endpoint's `{name}`: the names `machine` knows (R57.28.4), so a
    client reading the schema finds them. The value stays a string: any other name is answered by
    the engine as before (404 `unknown_transition`), which is what a missing resource gets."""
    return WithJsonSchema({"type": "string", "enum": sorted(machine.transitions)})


class TransitionIn(Schema):
    comment: str = ""
    eds_signature: EdsSignature = ""


class EdsSignatureIn(Schema):
    eds_signature: EdsSignature = ""


def optional_eds_signature(request: HttpRequest) -> str:
    """`eds_signature` from an operation whose JSON body is optional: no body, an empty one or
    one that is not JSON (a bodiless form post) carries none."""
    if request.content_type != "application/json" or not request.body.strip():
        return ""
    try:
        return EdsSignatureIn.model_validate(parse_json(request.body)).eds_signature
    except ValidationError as exc:
        raise ValidationFailed(
            fields={
                str(error["loc"][-1] if error["loc"] else "eds_signature"): [error["msg"]]
                for error in exc.errors()
            }
        ) from exc


class DocumentOut(Schema):
    """The exact bytes an act's EDS signature covers (base64), for the given comment/reason."""

    data: str
    required: bool


class SignatureOut(Schema):
    """An EDS-signed act: what was decided on which version, who signed, and the bytes signed."""

    id: int
    act: str
    version: int | None
    signed_by_id: int
    signer_name: str
    iin: str
    bin: str
    signed_at: datetime
    certificate_serial: str
    certificate_issuer: str
    revocation: list[str]
    document: str


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


# The bundle endpoints answer a zip file, not JSON (their errors are the usual JSON shape).
BUNDLE_RESPONSE = {
    "responses": {
        200: {
            "description": "A zip bundle that `aips eds verify` checks offline.",
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}
