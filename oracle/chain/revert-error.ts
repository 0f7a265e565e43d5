import { Interface, isCallException, type ErrorDescription } from "ethers";
import { BaseError } from "../errors.ts";
import { loadArtifact, type ContractName } from "./artifacts.ts";

/** A transaction or call that the chain refused, with the custom error decoded when known. */
export class ChainRevertError extends BaseError {
  override name = "ChainRevertError";
  readonly errorName: string | undefined;
  readonly args: readonly unknown[];

  constructor(action: string, decoded: ErrorDescription | undefined, cause: unknown, details: string[] = []) {
    const what = decoded ? `${decoded.name}(${decoded.args.map(String).join(", ")})` : "an unknown reason";
    super(`${action} reverted with ${what}.`, { cause, details });
    this.errorName = decoded?.name;
    this.args = decoded ? [...decoded.args] : [];
  }
}

const errorSources: ContractName[] = ["InferenceMarket", "ModelRegistry", "ProviderRegistry", "DisputeGame"];
let allErrors: Interface | undefined;

/** Every custom error of the suite in one interface: a market call can bubble a registry error. */
function errorsInterface(): Interface {
  if (allErrors) return allErrors;
  const fragments = new Map<string, unknown>();
  for (const name of errorSources)
    for (const item of loadArtifact(name).abi as { type: string; name: string; inputs: { type: string }[] }[])
      if (item.type === "error") fragments.set(`${item.name}(${item.inputs.map((i) => i.type).join(",")})`, item);
  allErrors = new Interface([...fragments.values()] as never[]);
  return allErrors;
}

/**
 * Turns an ethers call exception into a {@link ChainRevertError}; other errors pass through.
 * `hints` maps an error name to a line telling the user what to do about it.
 */
export function decodeRevert(action: string, error: unknown, hints: Readonly<Record<string, string>> = {}): unknown {
  if (!isCallException(error)) return error;
  const data = error.data;
  const decoded = data ? (errorsInterface().parseError(data) ?? undefined) : undefined;
  const hint = decoded && Object.hasOwn(hints, decoded.name) ? hints[decoded.name] : undefined;
  return new ChainRevertError(action, decoded, error, hint === undefined ? [] : [hint]);
}
