"""A headless client over real HTTP, as an app or a single-page app would speak.

- `app`: keeps the session token it is handed in `meta.session_token` and
  sends it back as `X-Session-Token`; never holds a cookie that matters.
- `browser`: keeps cookies and echoes the `csrftoken` cookie in `X-CSRFToken`.

`server=` on a call sends it to another replica with the same credentials,
which is what a load balancer does to a client.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any, TypeVar

import requests

from tests.system._servers import SignetServer

PASSWORD = "correct horse battery staple"
REQUEST_TIMEOUT = 15
T = TypeVar("T")


class ApiClient:
    def __init__(self, server: SignetServer, kind: str = "app", *, ip: str | None = None) -> None:
        self.server = server
        self.kind = kind
        self.http = requests.Session()
        self.token: str | None = None
        # With TRUSTED_PROXY_COUNT=1 the server takes the client IP from here.
        self.ip = ip

    def csrf_token(self, server: SignetServer | None = None) -> str:
        """The `csrftoken` cookie, fetched the way an SPA does on first load."""
        token = self.http.cookies.get("csrftoken")
        if token is None:
            server = server or self.server
            self.http.get(server.api(self.kind, "/config"), timeout=REQUEST_TIMEOUT)
            token = self.http.cookies["csrftoken"]
        return token

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        server: SignetServer | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        server = server or self.server
        headers = dict(headers or {})
        if self.ip:
            headers.setdefault("X-Forwarded-For", self.ip)
        if self.kind == "app" and self.token:
            headers.setdefault("X-Session-Token", self.token)
        if self.kind == "browser" and method != "GET":
            headers.setdefault("X-CSRFToken", self.csrf_token(server))
        response = self.http.request(
            method,
            server.api(self.kind, path),
            json=body,
            headers=headers,
            timeout=REQUEST_TIMEOUT,
        )
        if self.kind == "app" and response.headers.get("Content-Type") == "application/json":
            token = (response.json().get("meta") or {}).get("session_token")
            if token:
                self.token = token
        return response

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.request("POST", path, body, **kw)

    def delete(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.request("DELETE", path, body, **kw)

    # The round trips most tests start with.

    def signup(self, email_address: str, password: str = PASSWORD) -> requests.Response:
        return self.post("/auth/signup", {"email": email_address, "password": password})

    def login(self, email_address: str, password: str = PASSWORD) -> requests.Response:
        return self.post("/auth/login", {"email": email_address, "password": password})

    def wallet_sign_in(self, wallet: Any, process: str = "login", **kw: Any) -> requests.Response:
        """Challenge, sign the server's message with the wallet's key, verify."""
        issued = self.post(
            "/auth/wallet/challenge",
            {"chain": wallet.chain, "address": wallet.address, "process": process},
            **kw,
        )
        assert issued.status_code == 200, issued.text
        return self.post("/auth/wallet/verify", signed(wallet, issued.json()["data"]["message"]))


def signed(wallet: Any, message: str) -> dict[str, Any]:
    """The verify body a wallet library sends for `message`."""
    body = {
        "chain": wallet.chain,
        "address": wallet.address,
        "message": message,
        "signature": wallet.sign(message),
    }
    if wallet.public_key is not None:
        body["public_key"] = wallet.public_key
    return body


def all_at_once(calls: Iterable[Callable[[], T]], timeout: float = 120) -> list[T]:
    """Run `calls` on one thread each, released together by a barrier, so the
    requests reach gunicorn's accept queue at the same moment."""
    calls = list(calls)
    barrier = threading.Barrier(len(calls), timeout=timeout)

    def run(call: Callable[[], T]) -> T:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(run, call) for call in calls]
        return [future.result(timeout=timeout) for future in futures]


def mails(mail_dir: Path) -> list[Message]:
    """Every message Django's file backend wrote (one or more per file), oldest first."""
    out = []
    for path in sorted(mail_dir.glob("*.log"), key=lambda p: p.stat().st_mtime_ns):
        for chunk in path.read_bytes().split(b"-" * 79 + b"\n"):
            if chunk.strip():
                out.append(message_from_bytes(chunk))
    return out


def mail_text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    return ""


def verification_key(mail_dir: Path, address: str) -> str:
    """The key of the latest verification link mailed to `address`."""
    for message in reversed(mails(mail_dir)):
        link = re.search(r"/account/verify-email/(\S+)", mail_text(message))
        if message["To"] == address and link:
            return link[1]
    raise AssertionError(f"no verification mail to {address}")
