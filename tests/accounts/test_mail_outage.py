"""A mail server that is down answers 503 `service_unavailable`, and what a
failed mail leaves behind is nothing: the same request can simply be
retried (issue 9, item 17). A real SMTP backend, pointed at a local port
nobody listens on."""

from __future__ import annotations

import socket
from http import HTTPStatus

import pytest
from django.core import mail

from accounts.models import EmailAddress, User
from tests.conftest import PASSWORD

NEW = {"email": "new@example.com", "password": PASSWORD}


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # released: connecting is refused


@pytest.fixture
def smtp_down(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = _closed_port()
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 2

    def restore() -> None:
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    return restore


def _unavailable(response) -> bool:
    body = response.json()
    return (
        response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
        and body["status"] == 503
        and [e["code"] for e in body["errors"]] == ["service_unavailable"]
    )


def test_signup_during_an_outage_is_503_and_keeps_nothing(headless, smtp_down):
    assert _unavailable(headless.post("/auth/signup", NEW))
    assert User.objects.count() == EmailAddress.objects.count() == 0
    smtp_down()  # the mail server is back: the very same request works
    retried = headless.post("/auth/signup", NEW)
    assert retried.status_code == HTTPStatus.UNAUTHORIZED
    assert [m.to for m in mail.outbox] == [["new@example.com"]]


def test_a_taken_address_answers_the_outage_alike(headless, user, smtp_down):
    taken = headless.post("/auth/signup", {"email": user.email, "password": PASSWORD})
    assert _unavailable(taken)
    assert User.objects.count() == 1


def test_reset_requests_during_an_outage_are_503_for_known_and_unknown(headless, user, smtp_down):
    for email in (user.email, "ghost@example.com"):
        assert _unavailable(headless.post("/auth/password/request", {"email": email}))


def test_adding_an_address_during_an_outage_adds_nothing(logged_in, smtp_down):
    assert _unavailable(logged_in.post("/account/email", {"email": "second@example.com"}))
    assert EmailAddress.objects.count() == 1
    smtp_down()
    added = logged_in.post("/account/email", {"email": "second@example.com"})
    assert added.status_code == HTTPStatus.OK
    assert len(added.json()["data"]) == 2
