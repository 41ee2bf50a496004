// viem: createSiweMessage (viem/siwe) + signMessage, as wagmi/RainbowKit dApps do.
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { createSiweMessage, parseSiweMessage, validateSiweMessage } from "viem/siwe";
import { verifyMessage } from "viem";
import {
  DAPP_STATEMENT, DOMAIN, OTHER_DOMAIN, URI, challenge, expectError, expectSignedIn,
  expectTrue, run, session, verify,
} from "./lib.mjs";

const CHAIN = "eip155:1";

run(async () => {
  const account = privateKeyToAccount(generatePrivateKey());
  const stranger = privateKeyToAccount(generatePrivateKey());
  const siwe = (nonce, extra = {}) =>
    createSiweMessage({
      domain: DOMAIN, address: account.address, chainId: 1, nonce, uri: URI, version: "1",
      statement: DAPP_STATEMENT, issuedAt: new Date(), ...extra,
    });
  const body = async (message, signer = account) => ({
    chain: CHAIN, address: account.address, message,
    signature: await signer.signMessage({ message }),
  });

  // The dApp's own message, with a Request ID and a resource (WalletConnect one-click auth).
  let { nonce } = await challenge(CHAIN, account.address);
  const resources = ["https://app.example.com/terms"];
  const message = siwe(nonce, { requestId: "req-42", resources, expirationTime: new Date(Date.now() + 120e3) });
  const signed = await body(message);
  expectTrue("viem verifies its own signature", await verifyMessage({ ...signed, address: account.address }));
  expectTrue("viem validates its own message", validateSiweMessage({ message: parseSiweMessage(message), domain: DOMAIN, nonce }));
  const first = await verify(signed);
  const data = expectSignedIn("createSiweMessage with the dApp's statement", first);
  const [record] = data?.methods ?? [];
  expectTrue(
    "method record carries request_id and resources",
    record?.request_id === "req-42" && JSON.stringify(record?.resources) === JSON.stringify(resources),
    JSON.stringify(record),
  );
  const again = await session(first.body?.meta?.session_token);
  expectTrue("the token works", again.status === 200, `${again.status}`);
  expectError("replayed nonce", await verify(signed), 400, "challenge_not_found");

  // The server's own message, signed as is.
  const issued = await challenge(CHAIN, account.address);
  expectTrue("the issued message parses with viem", parseSiweMessage(issued.message).nonce === issued.nonce);
  expectSignedIn("server message + signMessage", await verify(await body(issued.message)));

  ({ nonce } = await challenge(CHAIN, account.address));
  expectError("other domain", await verify(await body(siwe(nonce, { domain: OTHER_DOMAIN }))), 400, "domain_mismatch");
  ({ nonce } = await challenge(CHAIN, account.address));
  expectError("other key", await verify(await body(siwe(nonce), stranger)), 400, "invalid_signature");
  ({ nonce } = await challenge(CHAIN, account.address));
  expectError("other chain", await verify(await body(siwe(nonce, { chainId: 137 }))), 400, "chain_mismatch");
});
