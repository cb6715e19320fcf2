"""Patch deadlines (R57.13, R57.14): the platform's locked dependencies with a known
vulnerability, when the fixing release was published, and the days left of the one month
within which it must be installed. The data comes from the last dependency scan (pip-audit's
JSON, or `python -m security.scan sca`'s report), imported by `aips patch-report --import`, so
the report and its page work without network access."""
