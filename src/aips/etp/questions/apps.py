from django.apps import AppConfig


class EtpQuestionsConfig(AppConfig):
    name = "aips.etp.questions"
    label = "etp_questions"
