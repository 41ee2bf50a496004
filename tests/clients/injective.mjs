// Keplr's signArbitrary on Injective (an eth_secp256k1 account), built with
// @injectivelabs/sdk-ts: generateArbitrarySignDoc + PrivateKey.sign (keccak256),
// checked with the SDK's verifyArbitrarySignature and Keplr's verifyADR36Amino.
// Keplr labels the key "tendermint/PubKeySecp256k1"; sent as is, it must sign in.
import { PrivateKey, generateArbitrarySignDoc } from "@injectivelabs/sdk-ts";
import { verifyADR36Amino } from "@keplr-wallet/cosmos";
import { DOMAIN, OTHER_DOMAIN, challenge, expectError, expectSignedIn, expectTrue, run, verify } from "./lib.mjs";

const CHAIN = "cosmos:injective-1";

function keplr() {
  const { privateKey } = PrivateKey.generate();
  const address = privateKey.toBech32();
  const publicKey = privateKey.toPublicKey().toBase64();
  return {
    address, publicKey,
    signArbitrary(signer, data) {
      const { signDocBuff } = generateArbitrarySignDoc(data, signer);
      return {
        pub_key: { type: "tendermint/PubKeySecp256k1", value: publicKey },
        signature: Buffer.from(privateKey.sign(signDocBuff)).toString("base64"),
        signDocBuff,
      };
    },
  };
}

run(async () => {
  const wallet = keplr();
  const stranger = keplr();
  const body = (message, signer = wallet) => {
    const { pub_key, signature } = signer.signArbitrary(wallet.address, message);
    return { chain: CHAIN, address: wallet.address, message, signature, public_key: pub_key };
  };

  const { message } = await challenge(CHAIN, wallet.address);
  const result = wallet.signArbitrary(wallet.address, message);
  const signature = Buffer.from(result.signature, "base64");
  const key = Buffer.from(wallet.publicKey, "base64");
  expectTrue("sdk-ts verifyArbitrarySignature accepts it", PrivateKey.verifyArbitrarySignature({
    signature: signature.toString("hex"), signDoc: result.signDocBuff, publicKey: key.toString("hex"),
  }));
  expectTrue("Keplr's verifyADR36Amino (ethsecp256k1) accepts it", verifyADR36Amino("inj", wallet.address, message, key, signature, "ethsecp256k1"));
  const signed = body(message);
  expectSignedIn("signArbitrary on Injective, result sent as is", await verify(signed));
  expectError("replayed nonce", await verify(signed), 400, "challenge_not_found");

  const second = await challenge(CHAIN, wallet.address);
  expectError("other domain", await verify(body(second.message.replace(DOMAIN, OTHER_DOMAIN))), 400, "domain_mismatch");
  const third = await challenge(CHAIN, wallet.address);
  expectError("other key", await verify(body(third.message, stranger)), 400, "address_mismatch");
});
