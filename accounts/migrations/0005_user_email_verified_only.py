"""`User.email` is only ever a verified address (API.md v1.1: an unverified
address is a claim). Rows written before that rule may hold a claim there,
e.g. an address a wallet user added and never verified: clear it. Nothing
else changes; verifying the address sets it again."""

from django.db import migrations
from django.db.models import Exists, OuterRef
from django.db.models.functions import Lower


def clear_unverified_user_emails(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    EmailAddress = apps.get_model("accounts", "EmailAddress")
    owned = EmailAddress.objects.alias(email_ci=Lower("email")).filter(
        user=OuterRef("pk"), verified=True, email_ci=Lower(OuterRef("email"))
    )
    User.objects.exclude(email=None).exclude(Exists(owned)).update(email=None)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_session_origin"),
    ]

    operations = [
        migrations.RunPython(clear_unverified_user_emails, migrations.RunPython.noop),
    ]
