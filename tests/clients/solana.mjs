// Phantom's signIn, as @solana/wallet-standard-util builds and checks it:
// the wallet signs createSignInMessage(input) with its ed25519 key (tweetnacl)
// and returns { account, signedMessage, signature }; the dApp checks it with
// verifySignIn(input, output) and sends the text and the signature.
import { createSignInMessage, createSignInMessageText, parseSignInMessageText, verifySignIn } from "@solana/wallet-standard-util";
import nacl from "tweetnacl";
import bs58 from "bs58";
import { DOMAIN, OTHER_DOMAIN, URI, challenge, expectError, expectSignedIn, expectTrue, run, verify } from "./lib.mjs";

const CHAIN = "solana:mainnet";

function phantom(keys) {
  const address = bs58.encode(keys.publicKey);
  return {
    address,
    signIn(input) {
      const signedMessage = createSignInMessage({ ...input, address });
      const signature = nacl.sign.detached(signedMessage, keys.secretKey);
      return { account: { address, publicKey: keys.publicKey }, signedMessage, signature, signatureType: "ed25519" };
    },
  };
}

const body = (output, address = output.account.address) => ({
  chain: CHAIN, address,
  message: new TextDecoder().decode(output.signedMessage),
  signature: bs58.encode(output.signature),
});

run(async () => {
  const wallet = phantom(nacl.sign.keyPair());
  const stranger = phantom(nacl.sign.keyPair());

  // A full SIWS input, times as Date.toISOString() writes them.
  let { nonce } = await challenge(CHAIN, wallet.address);
  const now = new Date();
  const input = {
    domain: DOMAIN, address: wallet.address, statement: "Clicking Sign or Approve only means you have proved this wallet is owned by you.",
    uri: URI, version: "1", chainId: "mainnet", nonce, issuedAt: now.toISOString(),
    expirationTime: new Date(now.getTime() + 120e3).toISOString(), requestId: "req-7",
    resources: ["https://app.example.com/terms"],
  };
  const output = wallet.signIn(input);
  expectTrue("verifySignIn accepts the wallet's output", verifySignIn(input, output));
  const signed = body(output);
  const data = expectSignedIn("signIn with every SIWS field", await verify(signed));
  expectTrue("method record carries request_id", data?.methods?.[0]?.request_id === "req-7", JSON.stringify(data?.methods));
  expectError("replayed nonce", await verify(signed), 400, "challenge_not_found");

  // Phantom's docs example: domain and address only (plus the server's nonce).
  ({ nonce } = await challenge(CHAIN, wallet.address));
  const minimal = { domain: DOMAIN, nonce };
  const minimalOutput = wallet.signIn(minimal);
  expectTrue("verifySignIn accepts the minimal output", verifySignIn({ ...minimal, address: wallet.address }, minimalOutput));
  expectSignedIn("minimal SIWS (domain, address, nonce)", await verify(body(minimalOutput)));
  await challenge(CHAIN, wallet.address);
  expectError("without a nonce", await verify(body(wallet.signIn({ domain: DOMAIN }))), 400, "invalid");

  // The server's own message: a front end rebuilds the input from the challenge
  // answer (issued_at/expires_at as toISOString()) and verifySignIn must agree.
  const issued = await challenge(CHAIN, wallet.address);
  const parsed = parseSignInMessageText(issued.message);
  const rebuilt = {
    domain: DOMAIN, address: wallet.address, statement: parsed.statement, uri: URI, version: "1",
    chainId: "mainnet", nonce: issued.nonce,
    issuedAt: new Date(issued.issued_at * 1000).toISOString(),
    expirationTime: new Date(issued.expires_at * 1000).toISOString(),
  };
  expectTrue("the issued message is createSignInMessageText of the challenge", createSignInMessageText(rebuilt) === issued.message, issued.message);
  const fromServer = wallet.signIn(rebuilt);
  expectTrue("verifySignIn accepts the issued message", verifySignIn(rebuilt, fromServer));
  expectSignedIn("issued message", await verify(body(fromServer)));

  ({ nonce } = await challenge(CHAIN, wallet.address));
  expectError("other domain", await verify(body(wallet.signIn({ domain: OTHER_DOMAIN, nonce }))), 400, "domain_mismatch");
  ({ nonce } = await challenge(CHAIN, wallet.address));
  const forged = stranger.signIn({ domain: DOMAIN, nonce });
  const forgedText = new TextDecoder().decode(forged.signedMessage).replace(stranger.address, wallet.address);
  expectError("other key", await verify({ chain: CHAIN, address: wallet.address, message: forgedText, signature: bs58.encode(forged.signature) }), 400, "invalid_signature");
});
