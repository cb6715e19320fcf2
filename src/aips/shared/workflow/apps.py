from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "aips.shared.workflow"
    label = "workflow"
