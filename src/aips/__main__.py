"""The `aips` and `etp` commands: Django's manage.py under each product's name."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aips.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


def main_etp() -> None:
    """`etp migrate`, `etp demo load`, `etp serve`: the same commands on the ETP's settings. Set,
    not defaulted: an environment that names AIPS's settings (a shell, a test run) must not turn
    `etp migrate` into a migration of AIPS's database."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "aips.settings_etp"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
