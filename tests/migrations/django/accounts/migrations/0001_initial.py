from django.contrib.postgres.operations import CITextExtension, TrigramExtension
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        CITextExtension(),
        TrigramExtension(),
        migrations.CreateModel(
            name="Account",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("email", models.TextField(unique=True)),
            ],
        ),
        migrations.RunSQL(
            "ALTER TABLE accounts_account ALTER COLUMN email TYPE citext",
            "ALTER TABLE accounts_account ALTER COLUMN email TYPE text",
        ),
    ]
