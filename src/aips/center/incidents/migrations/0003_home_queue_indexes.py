from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0002_submitted_at_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="incidentcard",
            index=models.Index(
                fields=["state", "deadline_at", "updated_at"], name="incident_queue"
            ),
        ),
        migrations.AddIndex(
            model_name="incidentcard",
            index=models.Index(
                fields=["organization", "state", "deadline_at", "updated_at"],
                name="incident_org_queue",
            ),
        ),
        migrations.AddIndex(
            model_name="incidentcard",
            index=models.Index(
                fields=["deadline_at", "organization", "state", "version"],
                name="incident_overdue",
            ),
        ),
    ]
