from django.apps import AppConfig


class EtpAuctionsConfig(AppConfig):
    name = "aips.etp.auctions"
    label = "etp_auctions"

    def ready(self) -> None:
        # Imported here: models load only once the app registry is ready.
        from aips.core.db_grants import register_grants
        from aips.core.metrics import register_metrics
        from aips.etp.auctions.db import app_role_grants
        from aips.etp.auctions.jobs import register_jobs
        from aips.etp.auctions.metrics import auction_metrics

        register_grants("etp_auctions", app_role_grants)
        register_jobs()
        register_metrics("auctions", auction_metrics)
