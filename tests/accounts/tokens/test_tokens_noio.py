"""URLconf for the no-lookup test: a view that reads only the user's id."""

from __future__ import annotations

from django.urls import path

from config import urls as project_urls
from tests.accounts.tokens.test_tokens import PkOnly

urlpatterns = [path("api/pk", PkOnly.as_view()), *project_urls.urlpatterns]
