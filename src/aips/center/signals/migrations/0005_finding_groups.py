"""Findings that group indicators: the finding ↔ indicator table, and each existing finding
made a group of one (its own indicator), so findings opened before keep reading the same."""

import django.db.models.deletion
from django.db import migrations, models


def groups_of_one(apps, schema_editor):  # type: ignore[no-untyped-def]
    finding_model = apps.get_model("signals", "CorrelationFinding")
    indicator_model = apps.get_model("signals", "FindingIndicator")
    rows = finding_model.objects.values_list(
        "pk", "type", "value", "organization_count", "signal_count"
    ).iterator()
    batch = []
    for pk, type_, value, orgs, signals in rows:
        batch.append(
            indicator_model(
                finding_id=pk,
                type=type_,
                value=value,
                organization_count=orgs,
                signal_count=signals,
            )
        )
        if len(batch) >= 1000:
            indicator_model.objects.bulk_create(batch)
            batch = []
    indicator_model.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("signals", "0004_partition_functions"),
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
                ],
                default="open",
                max_length=16,
                verbose_name="status",
            ),
        ),
        migrations.CreateModel(
            name="FindingIndicator",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "type",
                    models.CharField(
                        choices=[
                            ("ip", "IP address"),
                            ("domain", "Domain"),
                            ("url", "URL"),
                            ("hash", "File hash"),
                            ("email", "Sender address"),
                        ],
                        max_length=8,
                    ),
                ),
                ("value", models.CharField(max_length=512)),
                ("organization_count", models.PositiveIntegerField(default=0)),
                ("signal_count", models.PositiveBigIntegerField(default=0)),
                ("added_at", models.DateTimeField(auto_now_add=True)),
                (
                    "finding",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="indicators",
                        to="signals.correlationfinding",
                    ),
                ),
            ],
            options={
                "ordering": ["-organization_count", "type", "value"],
                "indexes": [models.Index(fields=["type", "value"], name="finding_indicator_value")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("finding", "type", "value"), name="finding_indicator_key"
                    )
                ],
            },
        ),
        migrations.RunPython(groups_of_one, migrations.RunPython.noop),
    ]
