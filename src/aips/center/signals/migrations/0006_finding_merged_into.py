"""A finding can be merged into an older one (the correlation found their groups to be one):
the "merged" status and the link to the finding that took its indicators."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("signals", "0005_finding_groups"),
    ]

    operations = [
        migrations.AlterField(
            model_name="correlationfinding",
            name="state",
            field=models.CharField(
                choices=[
                    ("open", "Open"),
                    ("promoted", "Draft alert created"),
                    ("dismissed", "Dismissed"),
                    ("linked", "Linked to an existing alert"),
                    ("merged", "Merged into another finding"),
                ],
                default="open",
                max_length=16,
                verbose_name="status",
            ),
        ),
        migrations.AddField(
            model_name="correlationfinding",
            name="merged_into",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="merged_findings",
                to="signals.correlationfinding",
            ),
        ),
    ]
