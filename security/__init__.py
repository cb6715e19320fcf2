"""Security testing of the repository (R57.21–R57.24): SAST, SCA, SBOM and release evidence.

`python -m security.scan --help` from the repository root; `make security` and `make test` call it.
It is tooling, not part of the shipped `aips` package: the standard library only, plus the scanners
it runs as programs (ruff, bandit, semgrep, pip-audit, cyclonedx-py)."""
