"""bench_mfa.py's users, made inside Django (run by `manage.py shell`, never
by the server): users whose email is verified, each with a second factor as
the set-up endpoints leave it (a TOTP secret encrypted at rest, or a WebAuthn
credential, and the recovery codes that come with the first factor).

    BENCH_MFA_SPEC=<file.json> manage.py shell -c \
        "from tests.benchmarks.mfa_setup import create; create()"

The spec: {"password": ..., "users": [{"email": ..., "totp": <base32 secret>}
or {"email": ..., "webauthn": <attested credential data, base64url>,
"credential_id": <base64url>}]}. Bulk inserts: thousands of users (a TOTP
code is single use per user and time step, so each request needs its own)
in seconds; one password hash for all, made once (argon2 costs ~25 ms).
"""

from __future__ import annotations

import json
import os
import time

from django.contrib.auth.hashers import make_password
from django.db import transaction

from accounts.mfa import crypto, recovery_codes, totp
from accounts.mfa.models import Authenticator
from accounts.models import EmailAddress, User

Type = Authenticator.Type


def create() -> None:
    with open(os.environ["BENCH_MFA_SPEC"]) as file:
        spec = json.load(file)
    password = make_password(spec["password"])
    # Activated a while ago: the last accepted step is an old one.
    step = int(time.time() // totp.PERIOD) - 100
    with transaction.atomic():
        users = User.objects.bulk_create(
            [User(email=u["email"], password=password) for u in spec["users"]]
        )
        EmailAddress.objects.bulk_create(
            EmailAddress(user=user, email=user.email, verified=True, primary=True) for user in users
        )
        rows = []
        for user, u in zip(users, spec["users"], strict=True):
            if "totp" in u:
                data = {"secret": crypto.encrypt(u["totp"])}
                rows.append(Authenticator(user=user, type=Type.TOTP, data=data, counter=step))
            else:
                data = {"name": "Key", "credential": u["webauthn"]}
                data["credential_id"] = u["credential_id"]
                rows.append(Authenticator(user=user, type=Type.WEBAUTHN, data=data, counter=0))
            codes = recovery_codes.recovery_data(recovery_codes.codes_generate(10))
            rows.append(Authenticator(user=user, type=Type.RECOVERY_CODES, data=codes))
        Authenticator.objects.bulk_create(rows)
