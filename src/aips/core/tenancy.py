"""The tenant choke point (R67.4): the one `visible_to` every model's queryset inherits.

The rule: nobody, an anonymous visitor or a deactivated account sees nothing; without the model's
`view_perm` (when it declares one) nothing either; the center sees everything
(`center_scope`; on the ETP the operator is `is_center`); an organization sees the rows whose
`tenant_field` is its own (`organization_scope`); and where a model's rows belong to a person
(`owner_field`), everyone, the center included, sees only their own.

A model whose rule differs overrides one of the two hooks, never `visible_to` itself: alerts add
the published alerts an organization received, requests the ones addressed to it, cards hide
first drafts from the center. A model with no organization of its own (`tenant_field = None`)
shows an organization nothing unless its `organization_scope` says otherwise, so forgetting the
hook fails closed. `core/tests/test_house_rules.py` keeps every tenant model on this base.
"""

from typing import ClassVar, Self, TypeVar

from django.db import models

# Not aips.core.access: that module pulls in django.contrib.auth's views, which need the user
# model, and querysets are defined while the user model is still being built.
from aips.core.actors import Actor, Viewer, as_actor, has_perm
from aips.core.permissions import Permission

_M = TypeVar("_M", bound=models.Model)


class TenantQuerySet(models.QuerySet[_M]):
    # Lookup from the model to its organization ("organization", "card__organization", "pk").
    tenant_field: ClassVar[str | None] = "organization"
    # Set for a person's own rows (sessions, tokens, factors, notifications): the owner's lookup.
    owner_field: ClassVar[str | None] = None
    # The permission without which an actor sees none of the model at all.
    view_perm: ClassVar[Permission | None] = None

    def visible_to(self, actor: Viewer) -> Self:
        acting = as_actor(actor)
        if acting is None:
            return self.none()
        if self.view_perm is not None and not has_perm(acting, self.view_perm):
            return self.none()
        if self.owner_field is not None:
            if acting.pk is None:
                return self.none()
            return self.filter(**{self.owner_field: acting.pk})
        if acting.is_center:
            return self.center_scope(acting)
        return self.organization_scope(acting)

    def center_scope(self, actor: Actor) -> Self:
        """Hook: what the center (or the system) sees."""
        return self.all()

    def organization_scope(self, actor: Actor) -> Self:
        """Hook: what an organization's actor (a person or a module) sees."""
        if self.tenant_field is None:
            return self.none()
        return self.filter(**{self.tenant_field: actor.organization_id})
