from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "aips.core"
    label = "core"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from aips.core.search import ensure_text_indexes

        # The search engine's indexes are schema that follows the products' declarations, not
        # business logic: made after every `migrate`, once all tables exist (core/fulltext.py).
        post_migrate.connect(ensure_text_indexes, sender=self, dispatch_uid="aips.core.fulltext")
