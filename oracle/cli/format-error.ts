/**
 * What the CLI prints for an error: `error: <what is wrong>` and a line or two on how to fix it,
 * never a stack trace unless asked for (`--verbose`, DEBUG or VERITY_DEBUG), and never a secret.
 * A {@link BaseError} says it itself; a revert is decoded to its custom error; the errors of
 * ethers and of Node's system calls are put in words here, so a command need not catch them.
 */
import { inspect } from "node:util";
import { isError } from "ethers";
import { describeRevert } from "../chain/revert-error.ts";
import { BaseError, rootCause } from "../errors.ts";

export type FormatCliErrorParameters = {
  /** Append the stack and the cause chain. */
  verbose?: boolean | undefined;
  /** Values never to print (the key, the keystore password); each occurrence becomes `<redacted>`. */
  secrets?: readonly string[] | undefined;
};

/** The lines to print on standard error for `error`. */
export function formatCliError(
  error: unknown,
  { verbose = false, secrets = [] }: FormatCliErrorParameters = {},
): string[] {
  const known = explain(error);
  const lines = known
    ? [`error: ${known.shortMessage}`, ...known.details.map((line) => `  ${line}`)]
    : [
        `error: ${firstLine(error)}`,
        `  An unexpected error${verbose ? "" : ": run the command again with --verbose for the stack trace"}.`,
      ];
  if (verbose) lines.push("", inspect(error, { depth: 6 }));
  return lines.map((line) => redact(line, secrets));
}

/**
 * The secrets of the environment a command may have read: the key, the mnemonic, passwords, API
 * keys, and RPC URLs that carry one in their path, query or credentials (`…/v3/KEY`).
 */
export function environmentSecrets(env: Record<string, string | undefined> = process.env): string[] {
  const secrets: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!value || value.trim().length < 6) continue;
    if (/PRIVATE_KEY|PASSWORD|MNEMONIC|SECRET|API_KEY/i.test(name)) {
      secrets.push(value, value.trim());
      if (/^(0x)?[0-9a-fA-F]{64}$/.test(value.trim())) secrets.push(value.trim().replace(/^0x/, ""));
    } else if (/RPC_URL$/i.test(name) && urlHoldsKey(value.trim())) secrets.push(value.trim());
  }
  return secrets;
}

function urlHoldsKey(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.pathname.length > 1 || parsed.search !== "" || parsed.username !== "" || parsed.password !== "";
  } catch {
    return false;
  }
}

/** Every occurrence of a secret replaced, longest first (a key without its 0x is inside the key). */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of [...new Set(secrets)].sort((a, b) => b.length - a.length))
    if (secret.length >= 6) out = out.split(secret).join("<redacted>");
  return out;
}

/** An error the user can act on, in words; undefined for a bug (printed with its message only). */
function explain(error: unknown): BaseError | undefined {
  if (error instanceof BaseError) return error;
  const revert = describeRevert(error);
  if (revert) return revert;
  if (isError(error, "INSUFFICIENT_FUNDS"))
    return new BaseError("The account has not enough ETH for this transaction (its value plus gas).", {
      details: ["Fund the account, or lower the amount."],
    });
  if (isError(error, "NONCE_EXPIRED") || isError(error, "REPLACEMENT_UNDERPRICED"))
    return new BaseError("Another transaction from this account got in first (nonce already used).", {
      details: ["Wait for the account's pending transactions, then run the command again."],
    });
  if (isError(error, "TIMEOUT") || isError(error, "NETWORK_ERROR") || isError(error, "SERVER_ERROR"))
    return new BaseError(`The JSON-RPC node failed: ${error.shortMessage}.`, {
      details: ["Check that the node is running and reachable (--rpc, VERITY_RPC_URL), then try again."],
    });
  if (isError(error, "INVALID_ARGUMENT"))
    // ethers puts the argument's name in `argument` and never the value of a private key.
    return new BaseError(`Invalid ${error.argument}: ${error.shortMessage}.`);
  if (isError(error, "UNKNOWN_ERROR")) {
    const message = (error.error as { message?: unknown } | undefined)?.message;
    if (typeof message === "string" && /insufficient funds|enough funds/i.test(message))
      return new BaseError("The account has not enough ETH for this transaction (its value plus gas).", {
        details: [`The node says: ${message}`],
      });
    if (typeof message === "string") return new BaseError(`The JSON-RPC node refused the call: ${message}`);
  }
  return systemError(rootCause(error));
}

/** Node's system errors (a missing file, a port in use, a refused connection) in words. */
function systemError(error: unknown): BaseError | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code, path, port, address, hostname } = error as NodeJS.ErrnoException & {
    port?: number;
    address?: string;
    hostname?: string;
  };
  switch (code) {
    case "ENOENT":
      return new BaseError(`${path ?? "A file"} does not exist.`, { details: ["Check the path."] });
    case "EACCES":
    case "EPERM":
      return path
        ? new BaseError(`Permission denied: ${path}.`, { details: ["Check the file's permissions."] })
        : new BaseError(`Permission denied${port ? ` for port ${port}` : ""}.`, {
            details: port ? ["Ports below 1024 need privileges: pick a port above 1023."] : [],
          });
    case "EISDIR":
      return new BaseError(`${path ?? "The path"} is a folder, not a file.`);
    case "EEXIST":
      return new BaseError(`${path ?? "The file"} already exists.`, {
        details: ["Choose another name, or remove it first."],
      });
    case "EADDRINUSE":
      return new BaseError(`Port ${port ?? "?"} on ${address ?? "127.0.0.1"} is already in use.`, {
        details: ["Stop what is listening there, or pick another port."],
      });
    case "ECONNREFUSED":
      return new BaseError(
        `Nothing answers at ${address ?? "the address"}${port ? `:${port}` : ""} (connection refused).`,
        {
          details: ["Is the node or service running? Check the URL."],
        },
      );
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new BaseError(`The host ${hostname ?? ""} was not found.`.replace("host  ", "host "), {
        details: ["Check the URL's host name."],
      });
    default:
      return undefined;
  }
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0]!.slice(0, 300);
}
