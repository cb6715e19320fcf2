"""The ETP's data room: a lot's full loan file (its documents, the loan tape, the borrowers and
guarantors, the agreement) behind a non-disclosure agreement. Admitted participants enter once
their organization accepted the NDA; the lot's seller and the operator's verifiers, admission
officers and auditors enter without one. Every opening and download is journaled, and every
downloaded file is stamped with the reader's identity and the time (docs/domains/etp.md,
"Data room")."""
