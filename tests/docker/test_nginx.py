"""docker/nginx/nginx.conf, checked by the real nginx (`nginx -t`).

CI installs Debian's nginx: apt-get install -y --no-install-recommends nginx
"""

from __future__ import annotations

import subprocess
from pathlib import Path

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
