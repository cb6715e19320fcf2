"""Shared by `aips ca` and `aips integration`."""

from django.core.management.base import CommandError

from aips.core.errors import AppError


def command_error(exc: AppError) -> CommandError:
    problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items())
    return CommandError(problems or exc.message)
