import { writeFileSync } from "node:fs";
import path from "node:path";
import { PassThrough } from "node:stream";
import { expect } from "chai";
import { encryptKeystoreJson, Wallet } from "ethers";
import { loadSignerKey, type LoadSignerKeyParameters } from "../../oracle/chain/load-signer-key.ts";
import { promptPassword, type PasswordInput } from "../../oracle/chain/prompt-password.ts";
import { redactUrl } from "../../oracle/chain/redact-url.ts";
import { signerKey } from "../../oracle/cli/chain-context.ts";
import { BaseError } from "../../oracle/errors.ts";
import { tempDir } from "../node/helpers.ts";

const PASSWORD = "correct horse battery";
const RAW_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

/** A terminal stand-in: raw mode recorded, `typed` delivered once the prompt listens. */
function terminal(typed: string): { input: PasswordInput; output: PassThrough; rawModes: boolean[] } {
  const stream = new PassThrough() as PassThrough & PasswordInput;
  const rawModes: boolean[] = [];
  stream.isTTY = true;
  stream.setRawMode = (mode: boolean) => rawModes.push(mode);
  setImmediate(() => stream.write(typed));
  const output = new PassThrough();
  output.resume();
  return { input: stream, output, rawModes };
}

async function refusal(parameters: LoadSignerKeyParameters): Promise<BaseError> {
  try {
    await loadSignerKey(parameters);
  } catch (error) {
    expect(error).to.be.instanceOf(BaseError);
    return error as BaseError;
  }
  throw new Error("loadSignerKey accepted it");
}

describe("one key format for every command: an encrypted keystore, or a raw key for development", function () {
  this.timeout(60_000);
  const temp = tempDir("verity-keys-");
  const keystore = path.join(temp.dir, "account.keystore.json");
  // Light scrypt parameters: the format is the same, the test is fast.
  const wallet = new Wallet(Wallet.createRandom().privateKey);
  before(async () =>
    writeFileSync(
      keystore,
      await encryptKeystoreJson({ address: wallet.address, privateKey: wallet.privateKey }, PASSWORD, {
        scrypt: { N: 1024 },
      }),
    ),
  );
  after(() => temp.remove());

  it("unlocks the keystore with the password from the environment", async () => {
    expect(await loadSignerKey({ keystore, password: PASSWORD })).to.equal(wallet.privateKey);
  });

  it("a --keystore flag wins over VERITY_PRIVATE_KEY; otherwise the raw key is used, as the daemon's config does", async () => {
    const env = { VERITY_PRIVATE_KEY: RAW_KEY, VERITY_KEYSTORE_PASSWORD: PASSWORD };
    expect(await signerKey({ keystore }, env)).to.equal(wallet.privateKey);
    expect(await signerKey({}, { ...env, VERITY_KEYSTORE: keystore })).to.equal(RAW_KEY);
    expect(await signerKey({}, { VERITY_KEYSTORE: keystore, VERITY_KEYSTORE_PASSWORD: PASSWORD })).to.equal(
      wallet.privateKey,
    );
  });

  it("asks for a missing password on a terminal, without echoing it (Backspace edits, Enter ends)", async () => {
    const { input, output, rawModes } = terminal(`${PASSWORD}x\u007f\r`);
    let shown = "";
    output.on("data", (chunk: Buffer) => (shown += chunk.toString()));
    expect(await loadSignerKey({ keystore, prompt: { input, output } })).to.equal(wallet.privateKey);
    expect(rawModes).to.deep.equal([true, false]);
    expect(shown).to.include(`Password for ${keystore} (${wallet.address.toLowerCase()}): `);
    expect(shown).not.to.include(PASSWORD);
  });

  it("a cancelled prompt, or no terminal and no password, is a one-line error", async () => {
    const { input, output } = terminal("\u0003");
    expect((await refusal({ keystore, prompt: { input, output } })).shortMessage).to.equal(
      "No password typed: cancelled.",
    );
    const noTty = await refusal({ keystore, prompt: { input: new PassThrough() as unknown as PasswordInput } });
    expect(noTty.shortMessage).to.equal(`The keystore ${keystore} needs its password.`);
    expect(noTty.details).to.deep.equal(["Set VERITY_KEYSTORE_PASSWORD, or run the command on a terminal to type it."]);
  });

  it("promptPassword reads what is typed up to Enter", async () => {
    const { input, output } = terminal("abc\rrest");
    expect(await promptPassword("? ", { input, output })).to.equal("abc");
  });

  it("names every other problem without showing a secret", async () => {
    const wrong = await refusal({ keystore, password: "wrong horse battery" });
    expect(wrong.shortMessage).to.equal(`Cannot decrypt the keystore ${keystore}.`);
    expect(String(wrong.cause)).not.to.include("wrong horse");

    const missing = await refusal({ keystore: path.join(temp.dir, "nope.json"), password: PASSWORD });
    expect(missing.shortMessage).to.match(/^Cannot read the keystore .*nope\.json\.$/);
    expect(missing.details).to.deep.equal(["No such file."]);

    const notJson = path.join(temp.dir, "key.txt");
    writeFileSync(notJson, RAW_KEY);
    const plain = await refusal({ keystore: notJson, password: PASSWORD });
    expect(plain.shortMessage).to.equal(`The keystore ${notJson} is not JSON.`);
    expect(plain.message).not.to.include(RAW_KEY.slice(2));

    const mnemonic = "test test test test test test test test test test test junk";
    const pasted = await refusal({ privateKey: mnemonic });
    expect(pasted.shortMessage).to.equal("VERITY_PRIVATE_KEY is not a private key.");
    expect(pasted.message).not.to.include("junk");

    expect((await refusal({})).shortMessage).to.equal("No private key for the account.");
  });

  it("shows a node's URL without its path or query, where providers put API keys", () => {
    expect(redactUrl("https://sepolia.infura.io/v3/0123456789abcdef")).to.equal("https://sepolia.infura.io/…");
    expect(redactUrl("http://127.0.0.1:8545")).to.equal("http://127.0.0.1:8545");
    expect(redactUrl("https://user:pass@rpc.example/")).to.equal("https://rpc.example/…");
  });
});
