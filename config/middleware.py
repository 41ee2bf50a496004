"""Django's middleware, narrowed to the requests that use it."""

from __future__ import annotations

from django.contrib.messages.middleware import MessageMiddleware
from django.http import HttpRequest, HttpResponse

ADMIN_PREFIX = "/admin/"


class AdminMessageMiddleware(MessageMiddleware):
    """Messages for the admin only: nothing else shows them, and setting up
    their storage (cookie and session backends) cost every request CPU
    (tests/benchmarks/README.md). A subclass, so the admin's check (E406) holds."""

    def process_request(self, request: HttpRequest) -> None:
        if request.path_info.startswith(ADMIN_PREFIX):
            super().process_request(request)

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if hasattr(request, "_messages"):
            return super().process_response(request, response)
        return response
