"""Backups (platform; R57.15, R57.16): one encrypted, verifiable archive of a deployment (the
database, stored files, the audit key and anchor, the CA and EDS material), its restore into an
empty instance, the worker's scheduled backups with retention, the scheduled restore drill and the
upgrade drill, each journaled. Both products use it (`aips backup`, `etp backup`): what a backup
holds is named by the product's settings (`AIPS_BACKUP_PARTS`). Format and choices:
docs/decisions/0048-backups-encrypted-archive-and-drills.md."""
