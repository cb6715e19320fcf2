from django.apps import AppConfig


class EtpParticipantsConfig(AppConfig):
    name = "aips.etp.participants"
    label = "etp_participants"
