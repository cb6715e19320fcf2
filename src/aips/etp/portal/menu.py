"""The ETP's main menu (settings_etp.AIPS_MENU), drawn by core/menu.py like AIPS's: entries name
URLs and the permission that shows them; an entry whose URL is not mounted is left out."""

from django.utils.translation import gettext_lazy as _

from aips.core.menu import Entry, Group

MENU: tuple[Group, ...] = (
    Group(
        _("My work"),
        (
            Entry("workspace", _("My workspace"), "etp_portal:workspace"),
            Entry("notifications", _("Notifications"), "notifications:list"),
        ),
    ),
    Group(
        _("Trading"),
        (
            Entry("catalogue", _("Lot catalogue"), "etp_portal:catalogue"),
            Entry("lots", _("Lots"), "etp_lots:list", "lot:view", also_under=("/manage/lots/",)),
            Entry("lot_queue", _("Verification queue"), "etp_lots:queue", "lot:verify"),
            Entry("applications", _("Applications"), "etp_applications:list", "application:view"),
            Entry("questions", _("Questions on lots"), "etp_questions:list", "question:view"),
            Entry(
                "complaints",
                _("Complaints"),
                "etp_questions:complaint_list",
                "complaint:view",
                also_under=("/manage/complaints/",),
            ),
        ),
    ),
    Group(
        _("Administration"),
        (
            Entry("users", _("Users"), "accounts:user_list", "user:view"),
            Entry("audit", _("Audit journal"), "audit:list", "audit:view"),
            Entry(
                "participant_profile",
                _("Participant profile"),
                "etp_participants:profile",
                "participant:profile",
            ),
            Entry("devices", _("My mobile devices"), "etp_devices:list", "device:manage"),
            Entry("profile", _("My profile"), "accounts:profile", also_under=("/mfa/",)),
        ),
    ),
)
