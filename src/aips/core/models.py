"""Core's one table: when each person last opened the home page ("since I last looked")."""

from django.conf import settings
from django.db import models


class HomeVisit(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"home seen by {self.user_id} at {self.seen_at:%Y-%m-%d %H:%M}"
