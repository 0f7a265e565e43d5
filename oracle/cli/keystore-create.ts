import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Wallet } from "ethers";
import { BaseError } from "../errors.ts";
import type { Command } from "./command.ts";
import { CliInputError, requireOption } from "./parse-options.ts";

export const keystoreCreateCommand: Command = {
  summary:
    "Encrypt a key into a keystore file (Web3 secret storage v3): VERITY_PRIVATE_KEY if set, else a new random key.",
  usage: "--out FILE   (password from VERITY_KEYSTORE_PASSWORD)",
  options: { out: { type: "string" } },
  maxPositionals: 0,
  async run(values) {
    const out = requireOption(values, "out", `verity keystore create ${this.usage}`);
    if (existsSync(out))
      throw new CliInputError(`${out} already exists.`, {
        details: ["A keystore is never overwritten: choose another --out FILE, or move the old one away first."],
      });
    if (!existsSync(path.dirname(path.resolve(out))))
      throw new CliInputError(`The folder of ${out} does not exist.`, {
        details: ["Create it first, or pick another --out."],
      });
    const password = process.env.VERITY_KEYSTORE_PASSWORD;
    if (!password || password.length < 8)
      throw new BaseError("Set VERITY_KEYSTORE_PASSWORD to the keystore's password (8 characters or more).", {
        details: ["The value is never printed; a longer passphrase is better."],
      });
    const key = process.env.VERITY_PRIVATE_KEY?.trim();
    // Checked here rather than by ethers, and never repeated: a mnemonic pasted by mistake is a secret too.
    if (key && !/^(0x)?[0-9a-fA-F]{64}$/.test(key))
      throw new BaseError("VERITY_PRIVATE_KEY is not a private key.", {
        details: ["Expected 0x followed by 64 hex digits (the value is not shown). A mnemonic is not accepted."],
      });
    const wallet = key ? new Wallet(key.startsWith("0x") ? key : `0x${key}`) : Wallet.createRandom();
    const json = await wallet.encrypt(password);
    // Readable by the owner only: the file is as sensitive as the password is weak.
    writeFileSync(out, json, { mode: 0o600, flag: "wx" });
    console.log(`${wallet.address} → ${out}`);
  },
};
