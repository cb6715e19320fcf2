"""The ETP's participants (R57.9, R57.10, R57.11, R57.27.10): self-registration from the public
site with an EDS (an individual's IIN, or a legal entity's BIN and the signer's role), the
participant's profile (contacts and the bank account for deposit refunds) and the notices of a
change of the registered phone. An individual is an organization of one whose `bin` holds the
IIN (docs/decisions/0036-the-etp-as-a-second-product.md); every participant organization requires
EDS or biometrics at each sign-in."""
