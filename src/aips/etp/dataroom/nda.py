"""The data room's non-disclosure agreement: one platform-wide text, translated, naming the lot
and its seller. What a participant accepts is the exact text shown in the person's language; its
SHA-256 is stored with the acceptance, so the journal proves which words were agreed to."""

import hashlib
from typing import Final

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from aips.etp.lots.models import Lot

# Raise it when the text's meaning changes (earlier acceptances keep their own version and hash).
NDA_VERSION: Final = "1"


def nda_text(lot: Lot) -> str:
    """The agreement for this lot, in the active language."""
    paragraphs = [
        _(
            "Non-disclosure agreement for the data room of lot %(lot)s (seller: %(seller)s), "
            "version %(version)s."
        )
        % {"lot": lot.reference, "seller": lot.organization.display_name, "version": NDA_VERSION},
        _(
            "The data room holds the personal data of borrowers and guarantors and the bank "
            "secrecy of their loans. The participant uses it only to decide on and take part "
            "in this lot's auction, and discloses it to nobody, except its own employees and "
            "advisers who need it for that purpose and are bound by the same duty, or where "
            "the law requires it."
        ),
        _(
            "The participant does not contact the borrowers or guarantors on the strength of "
            "this information before it acquires the claim, keeps the downloaded files "
            "protected, and destroys them when it does not win the auction."
        ),
        _(
            "Every opening of the data room and every download is recorded in the ETP's audit "
            "journal, and every downloaded file carries the reader's name, organization and "
            "the time of the download."
        ),
        _(
            "The agreement binds the participant's organization from the moment a person "
            "acting for it accepts it; a breach is answered under the law of the Republic of "
            "Kazakhstan, on personal data and on bank secrecy included."
        ),
    ]
    return "\n\n".join(paragraphs)


def nda_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def nda_language() -> str:
    return (get_language() or "en")[:8]
