"""WSGI entry point (gunicorn config.wsgi).

Django runs its system checks for management commands only; a WSGI server
would start with a configuration `manage.py check` refuses (a bad mailed-link
template, an admin listing a secret field). So they run here too, once per
process that loads the app (the gunicorn master when it preloads): an error
stops start-up with the checks' own messages, warnings are logged.
"""

import logging
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

application = get_wsgi_application()


def _system_checks() -> None:
    from django.conf import settings
    from django.core import checks
    from django.core.exceptions import ImproperlyConfigured

    found = checks.run_checks(include_deployment_checks=not settings.DEBUG)
    serious = [m for m in found if m.is_serious() and not m.is_silenced()]
    for message in found:
        if not message.is_serious() and not message.is_silenced():
            logging.getLogger("django.core.checks").warning("%s", message)
    if serious:
        raise ImproperlyConfigured("System checks failed:\n" + "\n".join(str(m) for m in serious))


_system_checks()
