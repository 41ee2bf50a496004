// What every case shares: the app client of Signet's headless API, and a
// recorder of expectations that test_js_clients.py reads as JSON on stdout.

export const DOMAIN = "app.example.com"; // WALLET_DOMAINS[0] of the test settings
export const URI = `https://${DOMAIN}`;
export const OTHER_DOMAIN = "localhost:3000"; // also a WALLET_DOMAINS entry, not the challenge's
export const DAPP_STATEMENT = "Sign in with Ethereum to the app."; // RainbowKit's

const base = process.argv[2];
if (!base) {
  console.error("usage: node <case>.mjs <live server base URL>");
  process.exit(2);
}

async function call(path, body, token) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers["X-Session-Token"] = token;
  const response = await fetch(`${base}/_allauth/app/v1${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/** POST /auth/wallet/challenge for a login; the data (nonce, message, issued_at, ...). */
export async function challenge(chain, address, extra = {}) {
  const { status, body } = await call("/auth/wallet/challenge", {
    chain, address, process: "login", domain: DOMAIN, ...extra,
  });
  if (status !== 200) throw new Error(`challenge: ${status} ${JSON.stringify(body)}`);
  return body.data;
}

/** POST /auth/wallet/verify on a fresh (anonymous) client. */
export async function verify(body) {
  return call("/auth/wallet/verify", body);
}

/** GET /auth/session with the token a sign-in returned. */
export async function session(token) {
  return call("/auth/session", undefined, token);
}

const results = [];

/** Record that `response` is a sign-in (200 with a user and a token). */
export function expectSignedIn(name, response) {
  const ok = response.status === 200 && !!response.body?.data?.user && !!response.body?.meta?.session_token;
  results.push({ name, ok, expected: "200 signed in", got: summary(response) });
  return response.body?.data;
}

/** Record that `response` is refused with `status` and error `code`. */
export function expectError(name, response, status, code) {
  const got = response.body?.errors?.[0]?.code;
  const ok = response.status === status && got === code;
  results.push({ name, ok, expected: `${status} ${code}`, got: summary(response) });
}

/** Record a client-side check (a library's own verification). */
export function expectTrue(name, value, detail = "") {
  results.push({ name, ok: value === true, expected: "true", got: `${value} ${detail}`.trim() });
}

function summary(response) {
  return `${response.status} ${JSON.stringify(response.body).slice(0, 400)}`;
}

/** Run the case, then print what happened for pytest (an exception is a failure too). */
export async function run(main) {
  try {
    await main();
  } catch (error) {
    results.push({ name: "no exception", ok: false, expected: "none", got: String(error?.stack || error) });
  }
  console.log(JSON.stringify({ results }));
}
