"""One home for each thing (issue 14): what a view, an input and a flow may do.

Read from the source, as tests/test_imports.py reads imports: a rate limit
consumed in a view, a sign-in made by a view, or an input on another base
would each be a second home for what has one.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from http import HTTPStatus

import pytest

from accounts.api.inputs import Input
from tests.test_imports import ROOT, import_graph

API_PACKAGES = ("accounts.api", "accounts.mfa.api", "wallets.api")
VIEW_MODULES = (
    "accounts.api.views",
    "accounts.mfa.api.views",
    "accounts.tokens.api.views",
    "wallets.api.views",
)
INPUT_MODULES = (
    "accounts.api.inputs",
    "accounts.mfa.api.inputs",
    "accounts.tokens.api.inputs",
    "wallets.api.inputs",
)


def _names(module: str) -> set[str]:
    path = ROOT / (module.replace(".", "/") + ".py")
    tree = ast.parse(path.read_text(), str(path))
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} | {
        node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
    }


def test_rate_limits_are_counted_in_flows_only():
    graph = import_graph()
    api = [name for name in graph if name.startswith(API_PACKAGES)]
    assert api
    offenders = sorted(name for name in api if "accounts.ratelimit" in graph[name])
    assert offenders == [], "a view counts a rate limit; count it in its flow"


@pytest.mark.parametrize("module", VIEW_MODULES)
def test_views_never_sign_anyone_in(module):
    assert {"login_user", "complete_login", "login"} & _names(module) == set()


@pytest.mark.parametrize("module", INPUT_MODULES)
def test_every_input_has_the_one_base(module):
    classes = [
        value
        for value in vars(importlib.import_module(module)).values()
        if inspect.isclass(value)
        and value.__module__ == module
        and value.__name__.endswith(("Input", "Header"))
    ]
    assert classes
    assert [c.__name__ for c in classes if not issubclass(c, Input)] == []


@pytest.mark.parametrize(
    ("path", "header"),
    [
        ("/auth/email/verify", "X-Email-Verification-Key"),
        ("/auth/password/reset", "X-Password-Reset-Key"),
    ],
)
def test_a_header_key_is_validated_like_a_body_field(headless, path, header):
    for headers in ({}, {header: ""}):
        response = headless.get(path, headers=headers)
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json()["errors"] == [
            {"code": "required", "message": "This field is required.", "param": "key"}
        ]
    response = headless.get(path, headers={header: "x" * 600})  # no length bound of its own
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["code"] == "invalid_or_expired_key"
