# Session ids become integers (allauth's spec). Rows keep the id they had,
# converted as accounts.sessions.public_id converts the string still held in
# their session data, so a listed id stays the one a client may send back;
# signed-in rows that had none (admin logins) get theirs from the session key.

from django.db import migrations, models

# The first 13 hex digits (52 bits) of md5, plus one: accounts.sessions._derived_public_id.
CONVERT = """
UPDATE accounts_usersession
SET public_id_int = ('x' || substr(md5(
        CASE WHEN public_id <> '' THEN public_id ELSE session_key END
    ), 1, 13))::bit(52)::bigint + 1
WHERE user_id IS NOT NULL
"""


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_authevent'),
    ]

    operations = [
        migrations.AddField(
            model_name='usersession',
            name='public_id_int',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.RunSQL(CONVERT, migrations.RunSQL.noop),
        migrations.RemoveField(
            model_name='usersession',
            name='public_id',
        ),
        migrations.RenameField(
            model_name='usersession',
            old_name='public_id_int',
            new_name='public_id',
        ),
        migrations.AlterField(
            model_name='usersession',
            name='public_id',
            field=models.BigIntegerField(blank=True, db_index=True, null=True),
        ),
    ]
