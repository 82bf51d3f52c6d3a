from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("open311", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="servicerequest",
            name="request_hash",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
    ]
