import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("etp_lots", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="LotChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("published", "Published"),
                            ("corrected", "Corrected"),
                            ("withdrawn", "Withdrawn"),
                        ],
                        max_length=16,
                    ),
                ),
                ("at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "lot",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="public_changes",
                        to="etp_lots.lot",
                    ),
                ),
            ],
            options={
                "ordering": ["id"],
            },
        ),
        migrations.AddIndex(
            model_name="lot",
            index=models.Index(fields=["published_at", "id"], name="etp_lot_published"),
        ),
        migrations.AddIndex(
            model_name="lot",
            index=models.Index(fields=["start_price", "id"], name="etp_lot_price"),
        ),
    ]
