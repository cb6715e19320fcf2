"""Integration modules (R67.7, R57.28.3), part of the AIPS product: the center's register of the
modules that send organizations' signals, their credentials (agent tokens and client
certificates from the center's CA), their authentication as a `ModuleActor` with
`signal:ingest` only, heartbeats and health."""
