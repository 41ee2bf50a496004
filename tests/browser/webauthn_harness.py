"""A test-harness page (not part of the product) that runs WebAuthn
ceremonies in Chromium against the API, with the DevTools virtual
authenticator standing in for a security key.

The page is served by the test itself (Playwright's routing) at the live
server's own origin, http://localhost:<port>: a secure context, so
navigator.credentials works, and same-origin, so its fetch() reaches the API
as the app client (the session token in X-Session-Token) with no CORS.
"""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import LiveApiClient

HARNESS_PATH = "/__webauthn_harness__"
HTML = """<!doctype html><meta charset=utf-8><title>WebAuthn harness</title>
<script>
const BASE = "/_allauth/app/v1";
function headers(token) {
  const h = {"Content-Type": "application/json"};
  if (token) h["X-Session-Token"] = token;
  return h;
}
// GET the options from `path`, run the ceremony, and (unless post is false)
// POST (or `method`: PUT for passkey signup) {credential, ...extra} back:
// what allauth's SPA does.
window.ceremony = async ({kind, path, token, extra, post, method}) => {
  const got = await fetch(BASE + path, {headers: headers(token)});
  const options = await got.json();
  if (got.status !== 200) return {step: "options", status: got.status, body: options};
  // An app client without a session gets one with the options (it holds the challenge).
  token = (options.meta && options.meta.session_token) || token;
  let made;
  if (kind === "create") {
    const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(
      options.data.creation_options.publicKey);
    made = await navigator.credentials.create({publicKey});
  } else {
    const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(
      options.data.request_options.publicKey);
    made = await navigator.credentials.get({publicKey});
  }
  const credential = made.toJSON();
  if (post === false) return {credential, options, token};
  const posted = await fetch(BASE + path, {
    method: method || "POST", headers: headers(token),
    body: JSON.stringify({...(extra || {}), credential}),
  });
  return {step: "post", status: posted.status, body: await posted.json(), credential, options};
};
</script><p>harness</p>"""

AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}


class Harness:
    def __init__(self, page: Any, base_url: str) -> None:
        self.page = page
        page.route(
            base_url + HARNESS_PATH,
            lambda route: route.fulfill(status=200, content_type="text/html", body=HTML),
        )
        page.goto(base_url + HARNESS_PATH)
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("WebAuthn.enable", {"enableUI": False})
        self.authenticator_id = self.cdp.send(
            "WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR}
        )["authenticatorId"]

    def run(self, api: LiveApiClient, kind: str, path: str, **kwargs) -> dict:
        args = {"kind": kind, "path": path, "token": api.token, **kwargs}
        result = self.page.evaluate("args => window.ceremony(args)", args)
        token = (result.get("body") or {}).get("meta", {}).get("session_token")
        if token:
            api.token = token  # the app client's token rotates on sign-in
        return result

    def credentials(self) -> list[dict]:
        answer = self.cdp.send(
            "WebAuthn.getCredentials", {"authenticatorId": self.authenticator_id}
        )
        return answer["credentials"]

    def set_sign_count(self, credential: dict, count: int) -> None:
        """Put the same key back with an older counter: what a clone of the
        authenticator, copied before its last uses, would present."""
        self.cdp.send(
            "WebAuthn.removeCredential",
            {"authenticatorId": self.authenticator_id, "credentialId": credential["credentialId"]},
        )
        self.cdp.send(
            "WebAuthn.addCredential",
            {
                "authenticatorId": self.authenticator_id,
                "credential": {**credential, "signCount": count},
            },
        )
