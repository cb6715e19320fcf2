"""The platform: the Django apps that every product of this codebase builds on (organizations,
accounts, second factors, the audit journal, the workflow engine, working days, notifications,
stored files). A platform app imports only other platform apps and `aips.core`, never a
product; the import contract in pyproject.toml checks it."""
