"""The tamper-evident audit journal (R57.17): `record()` appends a hash-chained entry in the
same transaction as every state change; signed checkpoints, an anchor file outside the
database, sealed archive segments, the stand-alone `verifier.py`, the journal screen and its
export, and the `aips audit` command. Part of the platform."""
