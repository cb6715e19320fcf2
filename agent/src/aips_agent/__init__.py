"""AIPS integration module (R67.3.8, R67.7): reads a financial organization's IS event sources,
maps them to AIPS signal schema v1, detects scans, brute force and password spraying at the edge
(R67.8), keeps every signal in a durable local spool and ships it to AIPS over TLS 1.2+ (R67.9,
R57.25). Standard library plus msgspec; no Django, no import of the server."""

__version__ = "0.1.0"
