"""Signals (R67.3.6, R67.8, R57.17), part of the AIPS product: schema v1 and the idempotent batch
API that integration modules send to, indicator sightings and hourly rollups, cross-organization
correlation findings that the center turns into alerts, the signal explorer, and monthly
partitions and archives."""
