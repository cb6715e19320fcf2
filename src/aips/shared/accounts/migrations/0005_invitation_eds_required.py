from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_identity"),
    ]

    operations = [
        migrations.AddField(
            model_name="invitation",
            name="eds_required",
            field=models.BooleanField(default=False, verbose_name="EDS required at registration"),
        ),
    ]
