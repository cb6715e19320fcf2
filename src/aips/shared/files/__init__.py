"""Stored files: the platform's one way to keep an uploaded file. `StoredFile` is the abstract
attachment row (name, type, size, SHA-256, anti-virus status, uploader) that each owning item
type subclasses with its own foreign keys (incident cards, requests and their answers, the ETP's
lots, complaints and protocols); `services.store_upload` checks an upload and writes it outside
the web root under its SHA-256; the worker scans every content with ClamAV (`scanning.py`,
`antivirus.py`, R57.12); `web.download_response` serves a file only once it is scanned clean,
and only as a sandboxed download."""
