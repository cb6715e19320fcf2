"""The ETP: the electronic trading platform on which banks and microfinance organizations sell
their assets (resolution No. 57), the second product on the platform beside AIPS
(`aips.center`). It is deployed on its own: `aips/settings_etp.py`, `aips/urls_etp.py`,
`aips/api_etp.py`, `aips/demo_etp.py`, the `etp` command; it imports the platform and the core,
never AIPS, and AIPS never imports it (docs/decisions/0036-the-etp-as-a-second-product.md).

Apps (`aips.etp.<app>`, labels `etp_<app>`):

- `portal` (`etp_portal`): the public catalogue page, the signed-in workspace, the menu.
- `lots` (`etp_lots`): assets for sale, the seller's maker → signatory → operator
  verification, publication, the correction window, withdrawal, the public lot page.
- `participants` (`etp_participants`): self-registration by EDS or biometrics, the participant's
  profile (contacts, the bank account for deposit refunds), notices of a phone change.

- `applications` (`etp_applications`): a lot's procedure (schedule, deposit), applications
  signed with EDS, deposits (by hand or a bank statement), admission.
- `questions` (`etp_questions`): public questions on a lot and complaints to the operator, each
  with its deadline on the working-day calendar, published with the answer.
- `dataroom` (`etp_dataroom`): a lot's full loan file behind an NDA for admitted participants,
  every opening and download journaled, every downloaded file stamped with its reader.

- `auctions` (`etp_auctions`): a procedure's auction attempts under a rule set (ascending,
  descending, sealed), bids in an append-only hash chain, the worker's tick that opens and
  closes them and repeats the unsuccessful ones, `etp auctions verify`, the public state and
  bids over the API. The live view, protocols and contracting are still to come.
"""
