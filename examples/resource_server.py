#!/usr/bin/env python
"""A service that trusts Signet's access tokens, knowing only its JWKS URL.

    python examples/resource_server.py --signet http://localhost:8000 --port 9000
    curl -H "Authorization: Bearer <meta.access_token>" http://localhost:9000/

No shared secret and no call to Signet per request: PyJWKClient fetches
/.well-known/jwks.json once, caches the keys, and fetches again only for a
`kid` it has not seen (Signet's key rotation). Needs PyJWT[crypto].
"""

from __future__ import annotations

import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt


class Verifier:
    def __init__(self, signet: str, issuer: str = "signet", audience: str = "signet") -> None:
        self.jwks = jwt.PyJWKClient(f"{signet.rstrip('/')}/.well-known/jwks.json")
        self.issuer, self.audience = issuer, audience

    def claims(self, token: str) -> dict:
        """The token's claims; raises jwt.PyJWTError for anything not Signet's."""
        key = self.jwks.get_signing_key_from_jwt(token)
        return jwt.decode(
            token,
            key,
            algorithms=["ES256"],  # never what the token's header asks for
            issuer=self.issuer,
            audience=self.audience,
            options={"require": ["sub", "exp", "iat", "iss", "aud"]},
        )


def make_server(verifier: Verifier, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            scheme, _, token = self.headers.get("Authorization", "").partition(" ")
            try:
                if scheme.lower() != "bearer":
                    raise jwt.InvalidTokenError("no bearer token")
                status, body = 200, {"user": verifier.claims(token.strip())["sub"]}
            except jwt.PyJWTError:
                status, body = 401, {"error": "invalid_token"}
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signet", default="http://localhost:8000")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    make_server(Verifier(args.signet), args.port).serve_forever()
