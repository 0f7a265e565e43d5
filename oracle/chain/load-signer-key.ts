import { readFileSync } from "node:fs";
import { Wallet } from "ethers";
import { BaseError } from "../errors.ts";
import { promptPassword, type PromptPasswordParameters } from "./prompt-password.ts";

export type LoadSignerKeyParameters = {
  /** A raw key (VERITY_PRIVATE_KEY, or `privateKey` in the daemon's config): for development. */
  privateKey?: string | undefined;
  /** An encrypted keystore file (`--keystore`, VERITY_KEYSTORE, or `keystore` in the config). */
  keystore?: string | undefined;
  /** The keystore's password (VERITY_KEYSTORE_PASSWORD). */
  password?: string | undefined;
  /**
   * Where to ask for a missing password: the terminal by default, when stdin is one; `false`
   * never asks (the password must then be given).
   */
  prompt?: PromptPasswordParameters | false | undefined;
  /** Prefer the keystore over `privateKey` (the keystore came from a flag, the key from the environment). */
  keystoreFirst?: boolean | undefined;
};

/**
 * The account's signing key, the same way for every command and the daemon: an encrypted
 * keystore (Web3 secret storage v3, `verity keystore create`) unlocked with
 * VERITY_KEYSTORE_PASSWORD or, on a terminal, a password typed at a prompt; or a raw key
 * (VERITY_PRIVATE_KEY) for development. No message ever holds the key or the password.
 */
export async function loadSignerKey({
  privateKey,
  keystore,
  password,
  prompt = {},
  keystoreFirst = false,
}: LoadSignerKeyParameters): Promise<string> {
  if (privateKey && !(keystoreFirst && keystore)) return checkedKey(privateKey);
  if (!keystore)
    throw new BaseError("No private key for the account.", {
      details: [
        "Use an encrypted keystore: --keystore FILE (or VERITY_KEYSTORE=FILE), made by `npx verity keystore create --out FILE`;",
        "its password from VERITY_KEYSTORE_PASSWORD or typed at the prompt. For development only: VERITY_PRIVATE_KEY.",
      ],
    });
  let json: string;
  try {
    json = readFileSync(keystore, "utf8");
  } catch (cause) {
    throw new BaseError(`Cannot read the keystore ${keystore}.`, {
      details: [
        (cause as NodeJS.ErrnoException).code === "ENOENT" ? "No such file." : String((cause as Error).message),
      ],
      cause,
    });
  }
  let address: string | undefined;
  try {
    address = (JSON.parse(json) as { address?: unknown }).address as string | undefined;
  } catch {
    throw new BaseError(`The keystore ${keystore} is not JSON.`, {
      details: ["A keystore is a Web3 secret storage (v3) file, as `npx verity keystore create --out FILE` writes."],
    });
  }
  if (!password) {
    if (prompt === false || !(prompt.input ?? process.stdin).isTTY)
      throw new BaseError(`The keystore ${keystore} needs its password.`, {
        details: ["Set VERITY_KEYSTORE_PASSWORD, or run the command on a terminal to type it."],
      });
    password = await promptPassword(
      `Password for ${keystore}${typeof address === "string" ? ` (0x${address.replace(/^0x/, "")})` : ""}: `,
      prompt,
    );
  }
  try {
    return Wallet.fromEncryptedJsonSync(json, password).privateKey;
  } catch (cause) {
    throw new BaseError(`Cannot decrypt the keystore ${keystore}.`, {
      details: ["Wrong password, or not a Web3 secret storage (v3) file."],
      cause: new Error((cause as Error).message.replaceAll(password, "<password>")),
    });
  }
}

/** A raw key, or an error that does not repeat it (it may be a mnemonic pasted by mistake). */
function checkedKey(privateKey: string): string {
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(privateKey.trim()))
    throw new BaseError("VERITY_PRIVATE_KEY is not a private key.", {
      details: ["Expected 0x followed by 64 hex digits (the value is not shown). A mnemonic is not accepted."],
    });
  const key = privateKey.trim();
  return key.startsWith("0x") ? key : `0x${key}`;
}
