// ethers v6: Wallet.signMessage over the message the server issued (personal_sign).
import { Signature, Wallet, verifyMessage } from "ethers";
import { OTHER_DOMAIN, DOMAIN, challenge, expectError, expectSignedIn, expectTrue, run, verify } from "./lib.mjs";

const CHAIN = "eip155:1";
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

run(async () => {
  const wallet = Wallet.createRandom();
  const stranger = Wallet.createRandom();
  const body = async (message, signer = wallet) => ({
    chain: CHAIN, address: wallet.address, message, signature: await signer.signMessage(message),
  });

  const { message } = await challenge(CHAIN, wallet.address.toLowerCase());
  const signed = await body(message);
  expectTrue("ethers recovers its own signature", verifyMessage(message, signed.signature) === wallet.address);
  expectSignedIn("Wallet.signMessage", await verify(signed));
  expectError("replayed nonce", await verify(signed), 400, "challenge_not_found");

  const other = await challenge(CHAIN, wallet.address);
  expectError("other domain", await verify(await body(other.message.replace(DOMAIN, OTHER_DOMAIN))), 400, "domain_mismatch");
  const third = await challenge(CHAIN, wallet.address);
  expectError("other key", await verify(await body(third.message, stranger)), 400, "invalid_signature");

  // The malleated twin: ethers itself refuses it, and so must the server.
  const fourth = await challenge(CHAIN, wallet.address);
  const good = Signature.from(await wallet.signMessage(fourth.message));
  const highS = "0x" + (N - BigInt(good.s)).toString(16).padStart(64, "0");
  const twin = good.r + highS.slice(2) + (good.v === 27 ? "1c" : "1b");
  let refusal = "accepted";
  try {
    verifyMessage(fourth.message, twin);
  } catch (error) {
    refusal = error.shortMessage;
  }
  expectTrue("ethers refuses the high-s twin", refusal.startsWith("non-canonical s"), refusal);
  expectError("high-s twin", await verify({ chain: CHAIN, address: wallet.address, message: fourth.message, signature: twin }), 400, "invalid_signature");
});
