"""The ETP's lots: what a seller (a bank or an MFO) puts up for sale — a right
of claim on a loan, a loan portfolio with its loan tape, or collateral — prepared by the seller's
maker, approved by its authorised person, verified and published by the operator, corrected
within a window after publication and withdrawn with a public reason. The debtors' identities
(`LotParty`) never leave the seller and the operator: the public sees `public_card` only."""
