"""Threat-intelligence exchange (R67.3.5, R67.8, R67.10), part of the AIPS product: the published
alerts and their indicators as STIX 2.1 (a TAXII 2.1 server at `/taxii2/`), as a MISP feed
(`/misp-feed/`) and as plain-text block-lists (`/exports/blocklist/`), each answering a caller
with exactly the alerts it may read; and STIX 2.1 bundles or MISP events taken in as draft
alerts: uploaded, added by an organization to its TAXII submissions collection, or polled by
the worker from partners' TAXII collections."""
