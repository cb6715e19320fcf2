"""Stored files: the platform's one way to keep an uploaded file. `StoredFile` is the abstract
attachment row (name, type, size, SHA-256, anti-virus status, uploader) that each owning item
type subclasses with its own foreign keys (incident cards, requests and their answers, later the
ETP's lots); `services.store_upload` checks an upload and writes it outside the web root under
its SHA-256; `web.download_response` serves it only as a sandboxed download."""
