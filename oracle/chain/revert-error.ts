import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Interface, isCallException, isError, type ErrorDescription } from "ethers";
import { BaseError } from "../errors.ts";
import { loadArtifact, type ContractName } from "./artifacts.ts";
import { enumNames, GamePhase, GameSide, RequestStatus, VerificationMode } from "./enums.ts";

/** A transaction or call that the chain refused, with the custom error decoded when known. */
export class ChainRevertError extends BaseError {
  override name = "ChainRevertError";
  /** The custom error's name (`ModelRoyaltyTooHigh`), `Error` for a revert string, `Panic`, or undefined. */
  readonly errorName: string | undefined;
  readonly args: readonly unknown[];

  constructor(action: string, decoded: ErrorDescription | undefined, cause: unknown, details: string[] = []) {
    super(`${action} reverted with ${decoded ? formatRevert(decoded) : unknownReason(cause)}.`, { cause, details });
    this.errorName = decoded?.name;
    this.args = decoded ? [...decoded.args] : [];
  }
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The suite's contracts, read even when the artifact folder cannot be scanned. */
const knownSources: ContractName[] = [
  "InferenceMarket",
  "ModelRegistry",
  "ProviderRegistry",
  "DisputeGame",
  "LayerStepProver",
  "GenerationProver",
  "Groth16TensorVerifier",
];

type AbiItem = { type: string; name?: string; inputs?: { type: string; internalType?: string }[] };

let suiteInterface: Interface | undefined;
/** Each error's argument types as Solidity names them (`enum IInferenceMarket.RequestStatus`), by signature. */
const internalTypes = new Map<string, (string | undefined)[]>();

/**
 * Every error and function of every compiled contract in one interface: a market call can bubble
 * a registry's, the game's, a verifier's or an ERC-20 token's error, and the CLI names the
 * function of a failed transaction from its calldata. Read once, from `artifacts/contracts/**`
 * (OpenZeppelin's errors come with the contracts that use them) and the suite's known artifacts.
 */
export function suiteErrorsInterface(): Interface {
  if (suiteInterface) return suiteInterface;
  const fragments = new Map<string, AbiItem>();
  const add = (abi: readonly unknown[]) => {
    for (const item of abi as AbiItem[])
      if ((item.type === "error" || item.type === "function") && item.name) {
        const signature = `${item.name}(${(item.inputs ?? []).map((i) => i.type).join(",")})`;
        fragments.set(`${item.type} ${signature}`, item);
        if (item.type === "error")
          internalTypes.set(
            signature,
            (item.inputs ?? []).map((i) => i.internalType),
          );
      }
  };
  for (const name of knownSources) {
    try {
      add(loadArtifact(name).abi);
    } catch {
      // Not built: the scan below finds what there is.
    }
  }
  for (const file of artifactFiles(path.join(repoRoot, "artifacts", "contracts"))) {
    try {
      add((JSON.parse(readFileSync(file, "utf8")) as { abi?: unknown[] }).abi ?? []);
    } catch {
      // A file being written by a build, or not an artifact: skip it.
    }
  }
  // Two functions of the same name and inputs in different contracts are one fragment.
  suiteInterface = new Interface([...fragments.values()] as never[]);
  return suiteInterface;
}

function artifactFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...artifactFiles(full));
    else if (entry.name.endsWith(".json") && !entry.name.endsWith(".dbg.json")) files.push(full);
  }
  return files;
}

/** The custom error (or `Error(string)`, `Panic(uint256)`) that revert data encodes, if known. */
export function decodeRevertData(data: string | null | undefined): ErrorDescription | undefined {
  if (!data || data === "0x") return undefined;
  try {
    return suiteErrorsInterface().parseError(data) ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * Turns an ethers call exception into a {@link ChainRevertError}; other errors pass through.
 * `hints` maps an error name to a line telling the user what to do about it.
 */
export function decodeRevert(action: string, error: unknown, hints: Readonly<Record<string, string>> = {}): unknown {
  if (error instanceof ChainRevertError || !isCallException(error)) return error;
  const decoded = decodeRevertData(error.data);
  const hint = decoded && Object.hasOwn(hints, decoded.name) ? hints[decoded.name] : undefined;
  return new ChainRevertError(action, decoded, error, hint === undefined ? [] : [hint]);
}

/**
 * The last resort of the CLI and the SDK for a revert no caller decoded: the action is named
 * from the transaction's calldata (`ModelRegistry.register` → `register(...)`).
 */
export function describeRevert(error: unknown): ChainRevertError | undefined {
  if (error instanceof ChainRevertError) return error;
  if (!isCallException(error)) return undefined;
  return decodeRevert(`${functionNameOf(error.transaction?.data) ?? "the transaction"}`, error) as ChainRevertError;
}

/** `register(...)` for calldata of a known function, undefined otherwise. */
export function functionNameOf(data: string | null | undefined): string | undefined {
  if (!data || data.length < 10) return undefined;
  try {
    const fragment = suiteErrorsInterface().getFunction(data.slice(0, 10));
    return fragment ? `${fragment.name}(…)` : undefined;
  } catch {
    return undefined;
  }
}

/** Names of the suite's enums, by the ABI's `internalType`: an error's argument reads `Finalized`, not `5`. */
const enumNamesByType: Record<string, readonly string[]> = {
  "enum IInferenceMarket.RequestStatus": enumNames(RequestStatus),
  "enum IModelRegistry.VerificationMode": enumNames(VerificationMode),
  "enum IDisputeGame.Phase": enumNames(GamePhase),
  "enum IDisputeGame.Side": enumNames(GameSide),
};

/** Solidity's panic codes (docs.soliditylang.org, "Panic via assert and error via require"). */
const panicReasons: Record<number, string> = {
  0x01: "assertion failed",
  0x11: "arithmetic overflow or underflow",
  0x12: "division by zero",
  0x21: "invalid enum value",
  0x22: "invalid storage byte array",
  0x31: "pop on an empty array",
  0x32: "array index out of bounds",
  0x41: "out of memory",
  0x51: "call to an uninitialised function",
};

/** `ModelRoyaltyTooHigh(9000, 5000)`, `"reason"` for Error(string), `Panic(0x11: arithmetic overflow …)`. */
export function formatRevert(decoded: ErrorDescription): string {
  if (decoded.signature === "Error(string)") return JSON.stringify(String(decoded.args[0]));
  if (decoded.signature === "Panic(uint256)") {
    const code = Number(decoded.args[0]);
    return `Panic(0x${code.toString(16).padStart(2, "0")}${panicReasons[code] ? `: ${panicReasons[code]}` : ""})`;
  }
  const types = internalTypes.get(decoded.signature) ?? [];
  return `${decoded.name}(${decoded.args.map((value, i) => formatArg(value, types[i])).join(", ")})`;
}

function formatArg(value: unknown, internalType: string | undefined): string {
  const names = internalType === undefined ? undefined : enumNamesByType[internalType];
  if (names?.[Number(value)] !== undefined) return names[Number(value)]!;
  if (Array.isArray(value)) return `[${value.map((item) => formatArg(item, undefined)).join(", ")}]`;
  return String(value);
}

/** When the data does not decode: what ethers could tell, never the raw calldata. */
function unknownReason(cause: unknown): string {
  if (isError(cause, "CALL_EXCEPTION")) {
    if (cause.reason) return JSON.stringify(cause.reason);
    if (cause.data && cause.data !== "0x") return `an unknown custom error (selector ${cause.data.slice(0, 10)})`;
    if (cause.receipt) return "no reason (the transaction was mined and failed; it may have run out of gas)";
  }
  return "no reason given";
}
