import { BaseError } from "../errors.ts";

/** Default for `chain.rpcTimeoutMs`: the longest one node call may take (ethers' own default is five minutes). */
export const DEFAULT_RPC_TIMEOUT_MS = 15_000;

/** A node call that did not answer in time. The call may still land; the caller stops waiting. */
export class RpcTimeoutError extends BaseError {
  override name = "RpcTimeoutError";
  constructor(what: string, timeoutMs: number) {
    super(`${what}: the node did not answer within ${timeoutMs} ms.`, {
      details: ["Is the node overloaded or unreachable? The call is tried again where it is safe to."],
    });
  }
}

/**
 * `promise`, or a {@link RpcTimeoutError} after `timeoutMs`: ethers' own default is five minutes,
 * during which a hung node would stall every transaction behind the call.
 */
export function withRpcTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RpcTimeoutError(what, timeoutMs)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
