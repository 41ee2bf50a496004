"""Start-up checks of the account settings (`manage.py check`, migrate).

A mailed link template that drops `{key}` would mail links nobody can use, and
one with another placeholder would fail every mail: both are refused here,
before the first mail goes out.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks

from accounts import mail

SETTING = "HEADLESS_FRONTEND_URLS"


def _template_errors(link: str, template: object) -> list[str]:
    name = f"{SETTING}[{link!r}]"
    if link not in mail.DEFAULT_FRONTEND_URLS:
        known = ", ".join(mail.DEFAULT_FRONTEND_URLS)
        return [f"{name}: unknown link (known: {known})."]
    if not isinstance(template, str):
        return [f"{name} must be a string URL template (got {template!r})."]
    expected = mail.PLACEHOLDERS.get(link, set())
    try:
        fields = mail.placeholders(template)
    except ValueError as error:
        return [f"{name}: {error} (write a literal brace as {{{{ or }}}}): {template!r}."]
    found = ", ".join(f or "{}" for f in fields)
    if expected and set(fields) != expected:
        return [
            f"{name} must contain {{key}}, where the mailed link carries the key, and no "
            f"other placeholder{f' (found {found})' if found else ''}: {template!r}."
        ]
    if not expected and fields:
        return [f"{name} may hold no placeholder (found {found}): {template!r}."]
    url = mail.render_url(template, **dict.fromkeys(expected, "KEY"))
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return [
            f"{name} must start with / (relative to FRONTEND_URL) or be an absolute "
            f"http(s) URL: {template!r} gives {url!r}."
        ]
    return []


@checks.register()
def frontend_urls(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    configured = settings.HEADLESS_FRONTEND_URLS
    if not isinstance(configured, dict):
        return [
            checks.Error(
                f"{SETTING} must be a JSON object of link name -> URL template.",
                id="accounts.E001",
            )
        ]
    templates = {**mail.DEFAULT_FRONTEND_URLS, **configured}
    return [
        checks.Error(problem, id="accounts.E002")
        for link, template in templates.items()
        for problem in _template_errors(link, template)
    ]
