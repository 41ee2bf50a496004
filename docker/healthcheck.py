"""Container health probe: GET /health/live on the local server, exit 0 when 200.

The image has no curl; this needs only the standard library and starts in a
few milliseconds. It sends the first DJANGO_ALLOWED_HOSTS entry as Host, so a
production ALLOWED_HOSTS that does not list 127.0.0.1 still accepts the probe.

    HEALTHCHECK_URL  default http://127.0.0.1:$PORT/health/live (PORT default 8000)
"""

from __future__ import annotations

import http.client
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit


def allowed_host() -> str | None:
    raw = os.environ.get("DJANGO_ALLOWED_HOSTS", "")
    if not raw and os.environ.get("DJANGO_ALLOWED_HOSTS_FILE"):
        raw = Path(os.environ["DJANGO_ALLOWED_HOSTS_FILE"]).read_text()
    for host in (h.strip() for h in raw.split(",")):
        if host and host != "*":
            return host.lstrip(".")  # ".example.com" allows example.com itself
    return None


def main() -> int:
    default = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/health/live"
    url = urlsplit(os.environ.get("HEALTHCHECK_URL", default))
    conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=4)
    headers = {"Host": allowed_host() or url.netloc, "User-Agent": "signet-healthcheck"}
    try:
        conn.request("GET", url.path or "/", headers=headers)
        status = conn.getresponse().status
    except OSError as exc:
        print(f"healthcheck: {url.geturl()}: {exc}", file=sys.stderr)
        return 1
    finally:
        conn.close()
    if status != 200:
        print(f"healthcheck: {url.geturl()} answered {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
