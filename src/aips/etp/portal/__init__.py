"""The ETP's front door: the public catalogue of lots at `/` (no sign-in; it lists published
lots once the lots app exists, an empty state until then), each signed-in person's workspace
with what their role does on the platform, the ETP's main menu and `GET /api/v1/me`. The pattern
every later ETP app copies: label `etp_<app>`, URL namespace the label, routers mounted in
aips/api_etp.py, pages in aips/urls_etp.py, permissions from aips/etp/permissions.py."""
