"""The CRL refresh, registered with the worker (aips.core.jobs) by EdsConfig."""

from datetime import timedelta

from django.conf import settings

from aips.core.jobs import register_job
from aips.shared.eds.crl_refresh import crl_refresh_job


def _every() -> timedelta:
    # With the refresh off the job still runs (and says so) once a day.
    minutes = settings.AIPS_EDS_CRL_REFRESH_MINUTES
    return timedelta(minutes=minutes) if minutes > 0 else timedelta(days=1)


def register_jobs() -> None:
    register_job("eds.crl_refresh", every=_every, run=crl_refresh_job)
