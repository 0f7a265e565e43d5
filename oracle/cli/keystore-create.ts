import { writeFileSync } from "node:fs";
import { Wallet } from "ethers";
import type { Command } from "../cli.ts";
import { BaseError } from "../errors.ts";

export const keystoreCreateCommand: Command = {
  summary:
    "Encrypt a key into a keystore file (Web3 secret storage v3): VERITY_PRIVATE_KEY if set, else a new random key.",
  usage: "--out FILE   (password from VERITY_KEYSTORE_PASSWORD)",
  options: { out: { type: "string" } },
  async run(values) {
    const out = values.out as string | undefined;
    const password = process.env.VERITY_KEYSTORE_PASSWORD;
    if (!out) throw new BaseError("keystore create needs --out FILE.");
    if (!password || password.length < 8)
      throw new BaseError("Set VERITY_KEYSTORE_PASSWORD to the keystore's password (8 characters or more).");
    const key = process.env.VERITY_PRIVATE_KEY;
    const wallet = key ? new Wallet(key) : Wallet.createRandom();
    const json = await wallet.encrypt(password);
    // Readable by the owner only: the file is as sensitive as the password is weak.
    writeFileSync(out, json, { mode: 0o600, flag: "wx" });
    console.log(`${wallet.address} → ${out}`);
  },
};
