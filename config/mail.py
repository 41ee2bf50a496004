"""A mail backend for deployments that deliberately deliver no mail.

Django's console backend writes each message to stdout as it is, reset and
verification links included: anyone who reads the logs could take over the
account. This one logs the message through `signet.mail` instead, so the
handler's RedactFilter removes every key (accounts.observability) and the log
says who would have received what. Production allows it only when told
(EMAIL_URL=consolemail:// and EMAIL_CONSOLE_IN_PRODUCTION=true).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

mail_logger = logging.getLogger("signet.mail")


class LogEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            mail_logger.info(
                "mail not sent (EMAIL_CONSOLE_IN_PRODUCTION) to %s: %s\n%s",
                ", ".join(message.recipients()),
                message.subject,
                message.body,
            )
        return len(email_messages)
