"""The ETP's closed lists: its permissions (`EtpPerm`), its roles (`EtpRole`) and what each role
may do (R57.5). `settings_etp.AIPS_PERMISSIONS` names this module, so the core's checks
(`require`, `api_auth`, `ensure_perm`, `visible_to`) read `TABLE` on the ETP.

The ETP's roles also hold some of the platform's permissions, which are members of the core's
`Perm` (the pages of accounts, second factors, notifications and the audit journal check those):
`PLATFORM` lists the ones the ETP uses. Anything not granted here is denied, AIPS's permissions
(incident cards, alerts…) included.
"""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from aips.core.permissions import Perm, Permission, PermissionTable


class EtpPerm(StrEnum):
    # Lots: the seller's maker prepares (edit), its signatory approves, the operator verifies.
    LOT_VIEW = "lot:view"  # the working pages of lots (the public catalogue needs none)
    LOT_EDIT = "lot:edit"
    LOT_APPROVE = "lot:approve"
    LOT_VERIFY = "lot:verify"
    # Procedures: participants apply; the operator admits, confirms deposits, runs auctions.
    APPLICATION_SUBMIT = "application:submit"
    APPLICATION_VIEW = "application:view"  # applications and deposits (a participant: its own)
    PROCEDURE_MANAGE = "procedure:manage"  # announce a lot's procedure (schedule, deposit)
    PARTICIPANT_ADMIT = "participant:admit"
    DEPOSIT_CONFIRM = "deposit:confirm"
    AUCTION_RUN = "auction:run"
    AUCTION_BID = "auction:bid"  # an admitted participant's bid (the service checks admission)
    # Complaints: participants file them, the operator answers.
    COMPLAINT_FILE = "complaint:file"
    COMPLAINT_ANSWER = "complaint:answer"
    COMPLAINT_VIEW = "complaint:view"  # one's own, about one's lots, or (operator) all
    # Questions on a lot: participants ask; the seller or the operator answers.
    QUESTION_ASK = "question:ask"
    QUESTION_ANSWER = "question:answer"
    QUESTION_VIEW = "question:view"  # the working list of questions (the lot page needs none)
    # Participants: a participant's profile (contacts, refund account); the operator reads them.
    PARTICIPANT_VIEW = "participant:view"
    PARTICIPANT_PROFILE = "participant:profile"  # edit one's own participant profile
    # The data room: a lot's full loan file (admitted participants after the NDA, the seller, the
    # operator's verifiers, admission officers and auditors).
    DATAROOM_VIEW = "dataroom:view"
    # Mobile devices: a participant registers the app on a phone and lists or revokes its own.
    DEVICE_MANAGE = "device:manage"


class EtpRole(StrEnum):
    OPERATOR_ADMIN = "operator_admin"
    OPERATOR_VERIFIER = "operator_verifier"
    OPERATOR_ADMISSION = "operator_admission"
    OPERATOR_AUCTIONEER = "operator_auctioneer"
    OPERATOR_COMPLAINTS = "operator_complaints"
    OPERATOR_AUDITOR = "operator_auditor"
    SELLER_MAKER = "seller_maker"
    SELLER_SIGNATORY = "seller_signatory"
    PARTICIPANT = "participant"


ROLE_LABELS = {
    EtpRole.OPERATOR_ADMIN: _("Operator administrator"),
    EtpRole.OPERATOR_VERIFIER: _("Lot verifier"),
    EtpRole.OPERATOR_ADMISSION: _("Admission officer"),
    EtpRole.OPERATOR_AUCTIONEER: _("Auctioneer"),
    EtpRole.OPERATOR_COMPLAINTS: _("Complaints officer"),
    EtpRole.OPERATOR_AUDITOR: _("Operator auditor"),
    EtpRole.SELLER_MAKER: _("Seller's lot preparer"),
    EtpRole.SELLER_SIGNATORY: _("Seller's authorised signatory"),
    EtpRole.PARTICIPANT: _("Participant"),
}

OPERATOR_ROLES = frozenset(
    {
        EtpRole.OPERATOR_ADMIN,
        EtpRole.OPERATOR_VERIFIER,
        EtpRole.OPERATOR_ADMISSION,
        EtpRole.OPERATOR_AUCTIONEER,
        EtpRole.OPERATOR_COMPLAINTS,
        EtpRole.OPERATOR_AUDITOR,
    }
)
SELLER_ROLES = frozenset({EtpRole.SELLER_MAKER, EtpRole.SELLER_SIGNATORY})

# The platform's permissions (the core's `Perm`) that the ETP's roles hold.
PLATFORM: frozenset[Permission] = frozenset(
    {
        Perm.DASHBOARD_VIEW,
        Perm.PROFILE_VIEW,
        Perm.TOKEN_MANAGE,
        Perm.ORGANIZATION_VIEW,
        Perm.ORGANIZATION_CREATE,
        Perm.ORGANIZATION_UPDATE,
        Perm.USER_VIEW,
        Perm.USER_CREATE,
        Perm.USER_UPDATE,
        Perm.USER_SECURITY,
        Perm.AUDIT_VIEW,
        Perm.AUDIT_EXPORT,
        Perm.CALENDAR_MANAGE,
    }
)

# Everyone signed in: their workspace, profile, second factors and API tokens.
_EVERYONE: frozenset[Permission] = frozenset(
    {Perm.DASHBOARD_VIEW, Perm.PROFILE_VIEW, Perm.TOKEN_MANAGE}
)

ROLE_PERMISSIONS: dict[EtpRole, frozenset[Permission]] = {
    # Accounts, organizations, the calendar and the journal; no lot decisions (least privilege).
    EtpRole.OPERATOR_ADMIN: _EVERYONE
    | {
        Perm.ORGANIZATION_VIEW,
        Perm.ORGANIZATION_CREATE,
        Perm.ORGANIZATION_UPDATE,
        Perm.USER_VIEW,
        Perm.USER_CREATE,
        Perm.USER_UPDATE,
        Perm.USER_SECURITY,
        Perm.AUDIT_VIEW,
        Perm.AUDIT_EXPORT,
        Perm.CALENDAR_MANAGE,
        EtpPerm.LOT_VIEW,
        EtpPerm.PROCEDURE_MANAGE,
    },
    EtpRole.OPERATOR_VERIFIER: _EVERYONE
    | {
        Perm.ORGANIZATION_VIEW,
        EtpPerm.LOT_VIEW,
        EtpPerm.LOT_VERIFY,
        EtpPerm.QUESTION_VIEW,
        EtpPerm.QUESTION_ANSWER,
        EtpPerm.DATAROOM_VIEW,
    },
    EtpRole.OPERATOR_ADMISSION: _EVERYONE
    | {
        Perm.ORGANIZATION_VIEW,
        EtpPerm.LOT_VIEW,
        EtpPerm.PARTICIPANT_ADMIT,
        EtpPerm.PARTICIPANT_VIEW,
        EtpPerm.DEPOSIT_CONFIRM,
        EtpPerm.APPLICATION_VIEW,
        EtpPerm.DATAROOM_VIEW,
    },
    EtpRole.OPERATOR_AUCTIONEER: _EVERYONE
    | {EtpPerm.LOT_VIEW, EtpPerm.AUCTION_RUN, EtpPerm.PROCEDURE_MANAGE},
    EtpRole.OPERATOR_COMPLAINTS: _EVERYONE
    | {
        EtpPerm.LOT_VIEW,
        EtpPerm.COMPLAINT_ANSWER,
        EtpPerm.COMPLAINT_VIEW,
        EtpPerm.QUESTION_VIEW,
        EtpPerm.QUESTION_ANSWER,
    },
    # Reads everything, changes nothing.
    EtpRole.OPERATOR_AUDITOR: _EVERYONE
    | {
        EtpPerm.PARTICIPANT_VIEW,
        Perm.ORGANIZATION_VIEW,
        Perm.USER_VIEW,
        Perm.AUDIT_VIEW,
        Perm.AUDIT_EXPORT,
        EtpPerm.LOT_VIEW,
        EtpPerm.COMPLAINT_VIEW,
        EtpPerm.QUESTION_VIEW,
        EtpPerm.APPLICATION_VIEW,
        EtpPerm.DATAROOM_VIEW,
    },
    EtpRole.SELLER_MAKER: _EVERYONE
    | {
        Perm.ORGANIZATION_VIEW,
        EtpPerm.LOT_VIEW,
        EtpPerm.LOT_EDIT,
        EtpPerm.QUESTION_VIEW,
        EtpPerm.QUESTION_ANSWER,
        EtpPerm.COMPLAINT_VIEW,
        EtpPerm.DATAROOM_VIEW,
    },
    EtpRole.SELLER_SIGNATORY: _EVERYONE
    | {
        Perm.ORGANIZATION_VIEW,
        EtpPerm.LOT_VIEW,
        EtpPerm.LOT_APPROVE,
        EtpPerm.QUESTION_VIEW,
        EtpPerm.QUESTION_ANSWER,
        EtpPerm.COMPLAINT_VIEW,
        EtpPerm.DATAROOM_VIEW,
    },
    EtpRole.PARTICIPANT: _EVERYONE
    | {
        EtpPerm.APPLICATION_SUBMIT,
        EtpPerm.APPLICATION_VIEW,
        EtpPerm.COMPLAINT_FILE,
        EtpPerm.COMPLAINT_VIEW,
        EtpPerm.QUESTION_ASK,
        EtpPerm.QUESTION_VIEW,
        EtpPerm.PARTICIPANT_VIEW,
        EtpPerm.PARTICIPANT_PROFILE,
        EtpPerm.DATAROOM_VIEW,
        EtpPerm.DEVICE_MANAGE,
        EtpPerm.AUCTION_BID,
    },
}

TABLE = PermissionTable(
    roles=EtpRole,
    labels=ROLE_LABELS,
    grants=ROLE_PERMISSIONS,
    cross_tenant_roles=frozenset(OPERATOR_ROLES),
    system_role=EtpRole.OPERATOR_ADMIN,
    organization_kinds=(
        "operator",
        "bank",
        "microfinance",
        "participant_legal",
        "participant_individual",
    ),
    role_kinds={
        **dict.fromkeys(OPERATOR_ROLES, frozenset({"operator"})),
        **dict.fromkeys(SELLER_ROLES, frozenset({"bank", "microfinance"})),
        EtpRole.PARTICIPANT: frozenset({"participant_legal", "participant_individual"}),
    },
)
