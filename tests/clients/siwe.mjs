// The siwe package (spruceid): SiweMessage.prepareMessage, signed with ethers, checked by siwe.
import { SiweMessage } from "siwe";
import { Wallet } from "ethers";
import { DAPP_STATEMENT, DOMAIN, OTHER_DOMAIN, URI, challenge, expectError, expectSignedIn, expectTrue, run, verify } from "./lib.mjs";

const CHAIN = "eip155:1";

run(async () => {
  const wallet = Wallet.createRandom();
  const stranger = Wallet.createRandom();
  const make = (nonce, extra = {}) =>
    new SiweMessage({
      domain: DOMAIN, address: wallet.address, statement: DAPP_STATEMENT, uri: URI,
      version: "1", chainId: 1, nonce, issuedAt: new Date().toISOString(), ...extra,
    });
  const body = async (text, signer = wallet) => ({
    chain: CHAIN, address: wallet.address, message: text, signature: await signer.signMessage(text),
  });

  const { nonce } = await challenge(CHAIN, wallet.address);
  const message = make(nonce, { resources: ["ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/"] });
  const signed = await body(message.prepareMessage());
  const checked = await message.verify({ signature: signed.signature, domain: DOMAIN, nonce });
  expectTrue("siwe verifies its own message", checked.success);
  expectSignedIn("SiweMessage.prepareMessage", await verify(signed));
  expectError("replayed nonce", await verify(signed), 400, "challenge_not_found");

  const second = await challenge(CHAIN, wallet.address);
  expectError("other domain", await verify(await body(make(second.nonce, { domain: OTHER_DOMAIN }).prepareMessage())), 400, "domain_mismatch");
  const third = await challenge(CHAIN, wallet.address);
  expectError("other key", await verify(await body(make(third.nonce).prepareMessage(), stranger)), 400, "invalid_signature");
  // The server's message read back by siwe's own parser.
  const fourth = await challenge(CHAIN, wallet.address);
  const parsed = new SiweMessage(fourth.message);
  expectTrue("siwe parses the issued message", parsed.nonce === fourth.nonce && parsed.domain === DOMAIN);
  expectSignedIn("issued message, via siwe", await verify(await body(parsed.prepareMessage())));
});
