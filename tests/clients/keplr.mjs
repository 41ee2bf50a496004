// Keplr's signArbitrary on the Cosmos Hub: the ADR-036 amino sign doc built by
// @keplr-wallet/cosmos, signed over sha256 with @cosmjs/crypto (what Keplr's
// key does), checked with Keplr's own verifyADR36Amino; Keplr's answer is
// { pub_key: { type: "tendermint/PubKeySecp256k1", value }, signature }.
import { makeADR36AminoSignDoc, serializeSignDoc, verifyADR36Amino } from "@keplr-wallet/cosmos";
import { Random, Secp256k1, sha256 } from "@cosmjs/crypto";
import { encodeSecp256k1Pubkey, pubkeyToAddress } from "@cosmjs/amino";
import { DOMAIN, OTHER_DOMAIN, challenge, expectError, expectSignedIn, expectTrue, run, verify } from "./lib.mjs";

const CHAIN = "cosmos:cosmoshub-4";

async function keplr(prefix) {
  const keypair = await Secp256k1.makeKeypair(Random.getBytes(32));
  const publicKey = Secp256k1.compressPubkey(keypair.pubkey);
  const address = pubkeyToAddress(encodeSecp256k1Pubkey(publicKey), prefix);
  return {
    address, publicKey,
    async signArbitrary(signer, data) {
      const doc = serializeSignDoc(makeADR36AminoSignDoc(signer, data));
      const signature = await Secp256k1.createSignature(sha256(doc), keypair.privkey);
      const raw = new Uint8Array([...signature.r(32), ...signature.s(32)]);
      return {
        pub_key: { type: "tendermint/PubKeySecp256k1", value: Buffer.from(publicKey).toString("base64") },
        signature: Buffer.from(raw).toString("base64"),
      };
    },
  };
}

run(async () => {
  const wallet = await keplr("cosmos");
  const stranger = await keplr("cosmos");
  const body = async (message, signer = wallet) => {
    const result = await signer.signArbitrary(wallet.address, message);
    return { chain: CHAIN, address: wallet.address, message, signature: result.signature, public_key: result.pub_key };
  };

  const { message } = await challenge(CHAIN, wallet.address);
  const signed = await body(message);
  expectTrue("Keplr's verifyADR36Amino accepts it", verifyADR36Amino("cosmos", wallet.address, message, wallet.publicKey, Buffer.from(signed.signature, "base64")));
  expectSignedIn("signArbitrary, result sent as is", await verify(signed));
  expectError("replayed nonce", await verify(signed), 400, "challenge_not_found");

  const second = await challenge(CHAIN, wallet.address);
  expectError("other domain", await verify(await body(second.message.replace(DOMAIN, OTHER_DOMAIN))), 400, "domain_mismatch");
  const third = await challenge(CHAIN, wallet.address);
  expectError("other key", await verify(await body(third.message, stranger)), 400, "address_mismatch");
  const fourth = await challenge(CHAIN, wallet.address);
  const theirs = await body(fourth.message, stranger);
  expectError("other key's signature, own key stated", await verify({ ...theirs, public_key: (await body("x")).public_key }), 400, "invalid_signature");
});
