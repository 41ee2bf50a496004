"""docker/nginx/nginx.conf, checked by the real nginx: `nginx -t`, and served
on loopback with its upstream pointed at a closed port (what it answers itself).

CI installs Debian's nginx: apt-get install -y --no-install-recommends nginx
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from . import ROOT, tool

CONF = ROOT / "docker" / "nginx" / "nginx.conf"


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    args = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    args += ["-subj", "/CN=signet.test", "-days", "1", "-keyout", str(key), "-out", str(cert)]
    subprocess.run([tool("openssl"), *args], check=True, capture_output=True)
    return cert, key


def test_nginx_accepts_the_configuration(tmp_path):
    nginx = tool("nginx")
    cert, key = _self_signed(tmp_path)
    text = CONF.read_text()
    # The secrets compose.prod.yaml mounts, here as temporary files.
    assert "/run/secrets/tls_certificate" in text and "/run/secrets/tls_private_key" in text
    text = text.replace("/run/secrets/tls_certificate", str(cert))
    text = text.replace("/run/secrets/tls_private_key", str(key))
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", "stderr"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert "[warn]" not in result.stderr and "[emerg]" not in result.stderr, result.stderr


def test_nginx_proxies_to_web_with_rate_limits_and_forwarded_headers():
    text = CONF.read_text()
    assert "http://web:8000" in text
    assert "limit_req_status 429;" in text
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in text
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in text
    assert "server_tokens off;" in text
    assert "listen 8443 ssl" in text


# --- Served ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Proxy:
    http_port: int
    https_port: int

    def tls(self) -> socket.socket:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        sock = socket.create_connection(("127.0.0.1", self.https_port), timeout=5)
        return context.wrap_socket(sock, server_hostname="signet.test")

    def raw(self, request: bytes, *, tls: bool = True) -> tuple[int, dict[str, str], bytes]:
        """Send bytes as they are (malformed requests included); the parsed answer."""
        port = self.https_port if tls else self.http_port
        sock = self.tls() if tls else socket.create_connection(("127.0.0.1", port), timeout=5)
        with sock:
            sock.sendall(request)
            response = http.client.HTTPResponse(sock)
            response.begin()
            return response.status, dict(response.getheaders()), response.read()

    def get(self, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
        lines = [f"GET {path} HTTP/1.1", "Host: signet.test", "Connection: close"]
        lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
        return self.raw(("\r\n".join(lines) + "\r\n\r\n").encode())


@pytest.fixture(scope="module")
def proxy(tmp_path_factory) -> Iterator[Proxy]:
    """nginx with nginx.conf as shipped, but for ports, paths and the upstream:
    a closed port, so every request that passes the proxy's checks is a 503.
    The real client address comes from X-Test-Client (realip), as from a peer."""
    nginx, tmp_path = tool("nginx"), tmp_path_factory.mktemp("nginx")
    cert, key = _self_signed(tmp_path)
    proxy = Proxy(_free_port(), _free_port())
    text = CONF.read_text()
    for old, new in [
        ("/tmp/", f"{tmp_path}/"),  # first: the certificate's path is under /tmp too
        ("/run/secrets/tls_certificate", str(cert)),
        ("/run/secrets/tls_private_key", str(key)),
        ("http://web:8000", f"http://127.0.0.1:{_free_port()}"),
        ("listen 8080 ", f"listen 127.0.0.1:{proxy.http_port} "),
        ("listen 8443 ssl ", f"listen 127.0.0.1:{proxy.https_port} ssl "),
        ("    server_tokens off;\n", "    server_tokens off;\n    set_real_ip_from 127.0.0.1;\n"
         "    real_ip_header X-Test-Client;\n"),
    ]:  # fmt: skip
        assert old in text, old
        text = text.replace(old, new)
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    log = (tmp_path / "nginx.log").open("w")
    args = [nginx, "-p", str(tmp_path), "-c", str(conf), "-e", "stderr", "-g", "daemon off;"]
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", proxy.https_port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, (tmp_path / "nginx.log").read_text()
                time.sleep(0.05)
        yield proxy
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _assert_envelope(answer: tuple[int, dict[str, str], bytes], status: int, code: str) -> None:
    got, headers, body = answer
    assert got == status, body
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert json.loads(body)["status"] == status
    assert [e["code"] for e in json.loads(body)["errors"]] == [code]


def test_a_malformed_request_is_400_in_the_envelope(proxy):
    _assert_envelope(proxy.raw(b"NOT A REQUEST\r\n\r\n"), 400, "invalid")
    # HTTP/1.1 without Host, and headers larger than nginx's buffers (494).
    _assert_envelope(proxy.raw(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n"), 400, "invalid")
    _assert_envelope(proxy.get("/", X_Big="x" * 9000), 400, "invalid")
    # Plain HTTP sent to the TLS port (497), and a malformed request on the HTTP port.
    plain = socket.create_connection(("127.0.0.1", proxy.https_port), timeout=5)
    with plain:
        plain.sendall(b"GET / HTTP/1.1\r\nHost: signet.test\r\nConnection: close\r\n\r\n")
        response = http.client.HTTPResponse(plain)
        response.begin()
        _assert_envelope((response.status, dict(response.getheaders()), response.read()), 400,
                         "invalid")  # fmt: skip
    _assert_envelope(proxy.raw(b"NOT A REQUEST\r\n\r\n", tls=False), 400, "invalid")


def test_an_oversized_body_is_413_in_the_envelope(proxy):
    request = (
        "POST /_allauth/app/v1/auth/login HTTP/1.1\r\nHost: signet.test\r\n"
        "Content-Type: application/json\r\nContent-Length: 300000\r\nConnection: close\r\n\r\n"
    )
    answer = proxy.raw(request.encode())
    _assert_envelope(answer, 413, "invalid")
    assert b"larger than 262144 bytes" in answer[2]  # client_max_body_size 256k


def test_too_long_a_uri_is_414_and_metrics_404_in_the_envelope(proxy):
    _assert_envelope(proxy.get("/" + "a" * 9000), 414, "invalid")
    _assert_envelope(proxy.get("/metrics"), 404, "not_found")


def test_what_passes_the_proxy_reaches_the_upstream(proxy):
    # The upstream port is closed: nginx's own 503, in the envelope.
    _assert_envelope(proxy.get("/_allauth/app/v1/config"), 503, "service_unavailable")


AUTH_RATE, AUTH_BURST = 5, 10  # zone signet_auth and its location's burst


def _auth_burst(proxy: Proxy, clients: list[str]) -> tuple[list[int], float]:
    """One request per client address to the auth zone, on one kept-alive
    connection (a TLS handshake each would let the bucket drain); the statuses
    and the seconds the burst took."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    connection = http.client.HTTPSConnection(
        "127.0.0.1", proxy.https_port, timeout=5, context=context
    )
    statuses, start = [], time.monotonic()
    try:
        for client in clients:
            headers = {"Host": "signet.test", "X-Test-Client": client}
            connection.request("GET", "/_allauth/app/v1/auth/login", headers=headers)
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
    finally:
        connection.close()
    return statuses, time.monotonic() - start


def _most_allowed(seconds: float) -> int:
    """Requests one key may pass in `seconds`: the burst, the first, the refill."""
    return AUTH_BURST + 1 + int(AUTH_RATE * seconds) + 1


def test_ipv6_clients_share_a_limit_per_64(proxy):
    """A host owns its whole /64: 2^64 addresses must not be 2^64 allowances.
    Every address below is another /128 (or another spelling) of one /64."""
    one_64 = [f"2001:db8:7:8:{i:x}::{i:x}" for i in range(1, 25)]
    one_64 += ["2001:db8:7:8:ffff:ffff:ffff:ffff", "2001:0db8:0007:0008::", "2001:db8:7:8::"]
    statuses, seconds = _auth_burst(proxy, [*one_64, "2001:db8:7:9::1"])
    *same, neighbour = statuses
    assert same[: AUTH_BURST + 1] == [503] * (AUTH_BURST + 1)  # passed on to the upstream
    assert same.count(503) <= _most_allowed(seconds) < len(same), (seconds, statuses)
    assert set(same) == {503, 429}
    assert neighbour == 503  # the /64 next door is another client


def test_ipv4_clients_are_limited_per_address(proxy):
    statuses, seconds = _auth_burst(proxy, [*["198.51.100.7"] * 20, "198.51.100.8"])
    *same, neighbour = statuses
    assert same.count(503) <= _most_allowed(seconds) < len(same), (seconds, statuses)
    assert neighbour == 503
