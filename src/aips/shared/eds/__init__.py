"""Electronic digital signatures of NCA RK (R57.9, R57.10): CMS SignedData verification (RSA and
GOST 34.10-2015 in NCA's byte layout), the chain to the configured NCA roots, revocation by CRL
and OCSP kept as evidence, the key-usage policy (authentication keys sign in, signing keys sign
documents), the signer's IIN, BIN and role, and the `aips eds verify` command. Pure Python on
asn1crypto, cryptography and gostcrypto. Part of the platform; products call `verify_cms`."""
