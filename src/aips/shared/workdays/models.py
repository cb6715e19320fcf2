"""Days the government moved (R67.13, R67.14, R67.15): the center's own corrections to the
Kazakhstan working-day calendar. Public holidays themselves come from the `holidays` package (see
aips/shared/workdays/calendar.py); this table overrides that calendar both ways."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from aips.core.actors import Actor
from aips.core.tenancy import TenantQuerySet


class MovedDayKind(models.TextChoices):
    # A Saturday, Sunday or public holiday that the government declared a working day.
    WORKING = "working", _("Working day")
    # A weekday declared a day off (a bridge day, or the corrected date of a religious holiday).
    DAY_OFF = "day_off", _("Day off")


class MovedDayQuerySet(TenantQuerySet["MovedDay"]):
    """The calendar is the same for the whole country: every signed-in person sees all of it, an
    anonymous visitor nothing."""

    tenant_field = None

    def organization_scope(self, actor: Actor) -> "MovedDayQuerySet":
        return self.all()


class MovedDay(models.Model):
    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=MovedDayKind.choices)
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MovedDayQuerySet.as_manager()

    class Meta:
        ordering = ["date"]
        verbose_name = _("moved day")
        verbose_name_plural = _("moved days")

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.kind}"

    @property
    def is_working(self) -> bool:
        return self.kind == MovedDayKind.WORKING
