// @walletconnect/utils formatMessage, the text WalletConnect/Reown one-click auth
// (and AppKit's SIWX) has wallets sign, for each family: Ethereum with a ReCap
// resource (which formatMessage turns into its statement), Solana (the genesis
// hash as Chain ID) and Cosmos ("... with your cosmos account:").
import { createEncodedRecap, formatMessage } from "@walletconnect/utils";
import { privateKeyToAccount, generatePrivateKey } from "viem/accounts";
import nacl from "tweetnacl";
import bs58 from "bs58";
import { makeADR36AminoSignDoc, serializeSignDoc } from "@keplr-wallet/cosmos";
import { Random, Secp256k1, sha256 } from "@cosmjs/crypto";
import { encodeSecp256k1Pubkey, pubkeyToAddress } from "@cosmjs/amino";
import { DOMAIN, OTHER_DOMAIN, URI, challenge, expectError, expectSignedIn, expectTrue, run, verify } from "./lib.mjs";

const payload = (nonce, extra = {}) => ({
  domain: DOMAIN, aud: URI, version: "1", nonce, iat: new Date().toISOString(), ...extra,
});

async function evm() {
  const account = privateKeyToAccount(generatePrivateKey());
  return {
    chain: "eip155:1", iss: `did:pkh:eip155:1:${account.address}`, address: account.address,
    sign: async (message) => ({ signature: await account.signMessage({ message }) }),
  };
}

async function solana() {
  const keys = nacl.sign.keyPair();
  const address = bs58.encode(keys.publicKey);
  return {
    chain: "solana:mainnet", iss: `did:pkh:solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp:${address}`, address,
    sign: async (message) => ({ signature: bs58.encode(nacl.sign.detached(new TextEncoder().encode(message), keys.secretKey)) }),
  };
}

async function cosmos() {
  const keypair = await Secp256k1.makeKeypair(Random.getBytes(32));
  const publicKey = Secp256k1.compressPubkey(keypair.pubkey);
  const address = pubkeyToAddress(encodeSecp256k1Pubkey(publicKey), "cosmos");
  return {
    chain: "cosmos:cosmoshub-4", iss: `did:pkh:cosmos:cosmoshub-4:${address}`, address,
    sign: async (message) => {
      const doc = serializeSignDoc(makeADR36AminoSignDoc(address, message));
      const signature = await Secp256k1.createSignature(sha256(doc), keypair.privkey);
      return {
        signature: Buffer.from([...signature.r(32), ...signature.s(32)]).toString("base64"),
        public_key: { type: "tendermint/PubKeySecp256k1", value: Buffer.from(publicKey).toString("base64") },
      };
    },
  };
}

async function family(name, wallet, extra = {}) {
  const stranger = await { evm, solana, cosmos }[name]();
  const body = async (message, signer = wallet) => ({
    chain: wallet.chain, address: wallet.address, message, ...(await signer.sign(message)),
  });
  let { nonce } = await challenge(wallet.chain, wallet.address);
  const message = formatMessage(payload(nonce, extra), wallet.iss);
  const signed = await body(message);
  const response = await verify(signed);
  const data = expectSignedIn(`${name}: formatMessage`, response);
  expectError(`${name}: replayed nonce`, await verify(signed), 400, "challenge_not_found");
  ({ nonce } = await challenge(wallet.chain, wallet.address));
  const elsewhere = formatMessage(payload(nonce, { ...extra, domain: OTHER_DOMAIN }), wallet.iss);
  expectError(`${name}: other domain`, await verify(await body(elsewhere)), 400, "domain_mismatch");
  ({ nonce } = await challenge(wallet.chain, wallet.address));
  const error = name === "cosmos" ? "address_mismatch" : "invalid_signature";
  const theirs = await body(formatMessage(payload(nonce, extra), wallet.iss), stranger);
  expectError(`${name}: other key`, await verify(theirs), 400, error);
  return { message, data };
}

run(async () => {
  const recap = createEncodedRecap("eip155", "request", ["personal_sign", "eth_signTypedData_v4"]);
  const ethereum = await family("evm", await evm(), { resources: [recap], requestId: "wc-1", statement: "Sign in to the app." });
  expectTrue("evm: the ReCap became the statement", ethereum.message.includes("I further authorize the stated URI"), ethereum.message);
  const [record] = ethereum.data?.methods ?? [];
  expectTrue("evm: method record carries the ReCap and Request ID",
    record?.request_id === "wc-1" && record?.resources?.[0] === recap, JSON.stringify(record));
  const sol = await family("solana", await solana());
  expectTrue("solana: Chain ID is the genesis hash", sol.message.includes("\nChain ID: 5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp\n"), sol.message);
  const hub = await family("cosmos", await cosmos());
  expectTrue("cosmos: lower-case label", hub.message.includes("with your cosmos account:"), hub.message);
});
