import { FetchRequest, JsonRpcProvider, type JsonRpcPayload, type JsonRpcResult } from "ethers";
import { redactUrl as redact } from "./redact-url.ts";
import { RpcTimeoutError, withRpcTimeout } from "./rpc-timeout.ts";

export type FailoverProviderOptions = {
  /** How often ethers polls (receipts, block numbers); ms. */
  pollingIntervalMs: number;
  /** The longest one call to one URL may take before the next URL is tried; ms. */
  timeoutMs: number;
  /** How often a URL that failed is probed (eth_chainId) to see whether it is back; ms. */
  recheckMs: number;
  /** Told when calls move to another URL, and why. */
  onSwitch?: ((switched: { from: string; to: string; reason: string }) => void) | undefined;
};

/** One URL as the provider sees it, for /health and logs. */
export type RpcEndpointStatus = {
  url: string;
  up: boolean;
  downSinceMs?: number | undefined;
  lastError?: string | undefined;
};

type Endpoint = { url: string; down?: { since: number; error: string; probe: NodeJS.Timeout } };

/**
 * A JSON-RPC provider over several URLs of one chain. Every call goes to the first URL that is
 * up; a URL that refuses the connection, answers with an HTTP error or does not answer within
 * `timeoutMs` is marked down and the call goes to the next one at once. A down URL is probed in
 * the background every `recheckMs` and takes its calls back when it answers with the same chain
 * id, so calls return to the first URL when it recovers and never wait on a known-dead one.
 * When every URL is down, each call still tries them all in order (one may have come back).
 *
 * JSON-RPC errors (a revert, a nonce too low) are answers, not failures: they are returned as
 * they came. A broadcast repeated on the next URL is the same signed transaction, so it can
 * land at most once.
 */
export class FailoverJsonRpcProvider extends JsonRpcProvider {
  readonly #endpoints: Endpoint[];
  readonly #options: FailoverProviderOptions;
  #active = 0;
  #chainId: string | undefined;

  constructor(urls: readonly string[], options: FailoverProviderOptions) {
    if (urls.length === 0) throw new Error("FailoverJsonRpcProvider needs at least one URL");
    // cacheTimeout -1: ethers must not reuse a cached pending nonce (back-to-back transactions).
    super(urls[0], undefined, { cacheTimeout: -1, pollingInterval: options.pollingIntervalMs });
    this.pollingInterval = options.pollingIntervalMs;
    this.#endpoints = urls.map((url) => ({ url }));
    this.#options = options;
  }

  /** Each URL, whether calls go to it, and since when and why not. */
  endpoints(): RpcEndpointStatus[] {
    return this.#endpoints.map(({ url, down }) => ({
      url,
      up: down === undefined,
      downSinceMs: down?.since,
      lastError: down?.error,
    }));
  }

  /** The URL calls go to now. */
  get activeUrl(): string {
    return this.#endpoints[this.#active]!.url;
  }

  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    const up = this.#endpoints.filter((endpoint) => endpoint.down === undefined);
    const order = up.length > 0 ? up : this.#endpoints;
    let lastError: unknown;
    for (const endpoint of order) {
      try {
        const result = await this.#post(endpoint.url, payload);
        if (endpoint.down !== undefined) this.#markUp(endpoint, "answered a call");
        this.#select();
        return result;
      } catch (error) {
        lastError = error;
        this.#markDown(endpoint, error);
      }
    }
    throw lastError;
  }

  override destroy(): void {
    for (const endpoint of this.#endpoints) if (endpoint.down) clearTimeout(endpoint.down.probe);
    super.destroy();
  }

  async #post(url: string, payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    const request = new FetchRequest(url);
    request.timeout = this.#options.timeoutMs;
    // ethers retries a 429 up to 12 times with back-off: the next URL is the better retry.
    request.setThrottleParams({ maxAttempts: 1 });
    request.body = JSON.stringify(payload);
    request.setHeader("content-type", "application/json");
    const sent = request.send();
    // FetchRequest's own timeout covers the response's start only; a node that sends headers
    // and then stalls is cut here.
    const response = await withRpcTimeout(sent, this.#options.timeoutMs + 100, redact(url)).catch((error: unknown) => {
      if (error instanceof RpcTimeoutError) request.cancel();
      throw error;
    });
    response.assertOk();
    const body: unknown = response.bodyJson;
    // Error objects come back in the same array; ethers' type for it names results only.
    return (Array.isArray(body) ? body : [body]) as JsonRpcResult[];
  }

  #markDown(endpoint: Endpoint, error: unknown): void {
    if (endpoint.down !== undefined) {
      endpoint.down.error = describe(error);
      return;
    }
    const probe = setTimeout(() => void this.#probe(endpoint), this.#options.recheckMs);
    probe.unref();
    endpoint.down = { since: Date.now(), error: describe(error), probe };
    this.#select();
  }

  #markUp(endpoint: Endpoint, why: string): void {
    if (endpoint.down) clearTimeout(endpoint.down.probe);
    endpoint.down = undefined;
    this.#select(why);
  }

  /** Asks a down URL for its chain id; back in line when it answers with ours, else probed again later. */
  async #probe(endpoint: Endpoint): Promise<void> {
    if (this.destroyed || endpoint.down === undefined) return;
    try {
      const [answer] = await this.#post(endpoint.url, { method: "eth_chainId", params: [], id: 0, jsonrpc: "2.0" });
      const chainId = answer?.result === undefined ? undefined : String(answer.result);
      this.#chainId ??= chainId;
      if (chainId === undefined || chainId !== this.#chainId)
        throw new Error(`answered chain id ${chainId ?? "none"}, expected ${this.#chainId ?? "?"}`);
      this.#markUp(endpoint, "recovered");
    } catch (error) {
      if (this.destroyed || endpoint.down === undefined) return;
      endpoint.down.error = describe(error);
      endpoint.down.probe = setTimeout(() => void this.#probe(endpoint), this.#options.recheckMs);
      endpoint.down.probe.unref();
    }
  }

  /** Points calls at the first URL that is up, telling `onSwitch` when that changes. */
  #select(why?: string): void {
    const next = this.#endpoints.findIndex((endpoint) => endpoint.down === undefined);
    if (next === -1 || next === this.#active) return;
    const from = this.#endpoints[this.#active]!;
    this.#active = next;
    this.#options.onSwitch?.({
      from: redact(from.url),
      to: redact(this.#endpoints[next]!.url),
      reason: why ?? from.down?.error ?? "preferred URL back",
    });
  }
}

function describe(error: unknown): string {
  const { shortMessage, message } = error as { shortMessage?: unknown; message?: unknown };
  return String(typeof shortMessage === "string" ? shortMessage : message);
}
