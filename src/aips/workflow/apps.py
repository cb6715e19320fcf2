from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "aips.workflow"
    label = "workflow"
