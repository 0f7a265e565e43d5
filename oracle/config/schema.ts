import { z } from "zod/v4";
import { DEFAULT_RPC_TIMEOUT_MS } from "../chain/rpc-timeout.ts";

/**
 * The provider daemon's configuration. Every default lives here, so a parsed config is
 * complete; `config/verity.example.jsonc` and `docs/configuration.md` describe each key.
 * Objects are strict: an unknown key (a typo) is an error, not silently ignored.
 */

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, { error: "expected a 0x-prefixed 20-byte hex address" });

const httpUrl = z.url({ protocol: /^(https?|wss?)$/, error: "expected an http(s) or ws(s) URL" });

/** The daemon's `/health` and `/metrics` port unless `metrics.port` says otherwise. */
export const DEFAULT_METRICS_PORT = 9474;

/** How long one call to a KServe v2 inference server may take unless `runtime.kserve.timeoutMs` says otherwise; ms. */
export const DEFAULT_KSERVE_TIMEOUT_MS = 10_000;

const nonNegativeInt = z.int().nonnegative();
const positiveInt = z.int().positive();

/** A model id: a non-negative integer, kept as a decimal string (ids are uint256 on chain). */
const modelId = z
  .union([z.int().nonnegative(), z.string().regex(/^\d+$/)], { error: "expected a model id (digits)" })
  .transform((id) => BigInt(id).toString());

/**
 * A `models` entry: a model id, or a model id with its model folder (DIR/vqm, and DIR/zk for a
 * Zk model: oracle/model/model-folder.ts), from which the daemon serves a Zk or Optimistic model.
 */
const modelEntry = z.union([modelId, z.strictObject({ id: modelId, folder: z.string().min(1) })], {
  error: (issue) =>
    typeof issue.input === "object" && issue.input !== null
      ? 'expected { "id": <model id>, "folder": "<model folder>" }'
      : "expected a model id (digits)",
});

/** A `keeper.agents` entry: an agent id of the AgentRegistry (digits), or the agent's account address. */
const agentRef = z
  .union([z.int().nonnegative(), z.string().regex(/^\d+$/), address], {
    error: "expected an agent id (digits) or the agent's account address (0x + 40 hex digits)",
  })
  .transform((ref) => (typeof ref === "number" ? ref.toString() : ref));

/** An amount of wei: a non-negative integer, kept as a decimal string (it may exceed 2^53). */
const wei = z
  .union([z.int().nonnegative(), z.string().regex(/^\d+$/)], { error: "expected an amount of wei (digits)" })
  .transform((amount) => BigInt(amount).toString());

export const embeddedStorageSchema = z.strictObject({
  kind: z.literal("embedded"),
  dir: z.string().min(1).default(".verity/content"),
});

export const kuboStorageSchema = z.strictObject({
  kind: z.literal("kubo"),
  url: httpUrl,
});

export const verityConfigSchema = z.strictObject({
  /** The node's JSON-RPC URL; or `rpcUrls`, never both (load-config checks it). */
  rpcUrl: httpUrl.optional(),
  /** Several URLs of one chain, first preferred: a call moves to the next when one is down or hangs. */
  rpcUrls: z.array(httpUrl).min(1, { error: "expected at least one URL" }).optional(),
  privateKey: z
    .string()
    .regex(/^0x[0-9a-fA-F]{64}$/, { error: "expected 0x followed by 64 hex digits" })
    .optional(),
  /** An encrypted JSON keystore (Web3 secret storage v3) holding the key, used when `privateKey`
   * is absent; its password comes from VERITY_KEYSTORE_PASSWORD only. */
  keystore: z.string().min(1).optional(),
  deployment: z.string().min(1).default("deployments/localhost.json"),
  contracts: z
    .strictObject({
      modelRegistry: address,
      providerRegistry: address,
      inferenceMarket: address,
      /** The AgentRegistry (the keeper resolves agent ids there); optional. */
      agentRegistry: address.optional(),
    })
    .optional(),
  models: z.array(modelEntry).default([]),
  storage: z
    .discriminatedUnion("kind", [embeddedStorageSchema, kuboStorageSchema])
    .default({ kind: "embedded", dir: ".verity/content" }),
  stateDir: z.string().min(1).default(".verity/provider"),
  runtime: z
    .strictObject({
      /** Where Attested models run: "onnxruntime" in the daemon, or "kserve": a KServe v2 (Triton) server at `runtime.kserve.url`. */
      backend: z.enum(["onnxruntime", "kserve"]).default("onnxruntime"),
      executionProvider: z.enum(["cpu", "cuda"]).default("cpu"),
      threads: positiveInt.default(1),
      kserve: z
        .strictObject({
          /** The server's base URL; the daemon calls /v2/health/ready, /v2/models/{name} and /v2/models/{name}/infer under it. */
          url: z.url({ protocol: /^https?$/, error: "expected an http(s) URL" }),
          /** The longest one call to the server may take; ms. */
          timeoutMs: positiveInt.default(DEFAULT_KSERVE_TIMEOUT_MS),
        })
        .optional(),
    })
    .superRefine((runtime, ctx) => {
      if (runtime.backend === "kserve" && runtime.kserve === undefined)
        ctx.addIssue({
          code: "custom",
          message: 'expected "onnxruntime", or runtime.kserve: { "url": "http://HOST:PORT" } (the KServe v2 server)',
          path: ["backend"],
          input: runtime.backend,
        });
    })
    .prefault({}),
  chain: z
    .strictObject({
      pollIntervalMs: positiveInt.default(1000),
      confirmations: nonNegativeInt.default(0),
      maxBlockRange: positiveInt.default(2000),
      startBlock: nonNegativeInt.default(0),
      /** The longest one node call may take before it fails or moves to the next URL; ms. */
      rpcTimeoutMs: positiveInt.default(DEFAULT_RPC_TIMEOUT_MS),
      /** How often a URL that failed is probed to see whether it is back; ms. */
      rpcRecheckMs: positiveInt.default(5_000),
    })
    .prefault({}),
  retry: z
    .strictObject({
      attempts: positiveInt.default(5),
      baseDelayMs: nonNegativeInt.default(500),
      maxDelayMs: nonNegativeInt.default(10_000),
    })
    .prefault({}),
  jobs: z
    .strictObject({
      concurrency: positiveInt.default(2),
      deadlineMarginSec: nonNegativeInt.default(5),
      /** A claimed job whose content or set-up is missing is retried until this many seconds remain, then released. */
      releaseMarginSec: nonNegativeInt.default(60),
      maxInputBytes: positiveInt.default(1_048_576),
      /** Also expire (refund) any request seen whose deadline passed while it was open, not only our own claims. */
      expireOthers: z.boolean().default(false),
      /** How transactions are sent: `pipelined` (several in flight, nonces, fees and receipts per block) or `serial` (one at a time). */
      sender: z.enum(["serial", "pipelined"]).default("pipelined"),
      /** Serve Attested requests without a claim (`fulfil`): one transaction per request instead of two. */
      claimFree: z.boolean().default(true),
      /** Claim-free results per transaction: 1 sends `fulfil`, more send `fulfilBatch` (at most the market's 64). */
      batchMaxItems: positiveInt.max(64).default(16),
      /** How long the first ready claim-free result waits for others before its batch is sent. */
      batchWindowMs: nonNegativeInt.default(250),
      /** Providers of a model take requests in turns ranked by keccak256(requestId, provider): rank r waits r × this after the request's block (0: no turns). */
      assignmentWindowSec: nonNegativeInt.default(4),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(["debug", "info", "warn", "error"]).default("info"),
    })
    .prefault({}),
  metrics: z
    .strictObject({
      /** 0 picks a free port (logged); null serves nothing. */
      port: z.int().min(0).max(65_535).nullable().default(DEFAULT_METRICS_PORT),
      host: z.string().min(1).default("127.0.0.1"),
    })
    .prefault({}),
  /** When `/health` answers 503 (oracle/node/assess-health.ts). */
  health: z
    .strictObject({
      /** Unhealthy when no poll of the chain succeeded for this many poll intervals. */
      stalePolls: positiveInt.default(10),
      /** Unhealthy when the head has not moved for this long while our transactions wait to be mined; s. */
      headStallSec: positiveInt.default(120),
      /** Unhealthy when the oldest transaction in flight was sent longer ago than this; s. */
      senderStuckSec: positiveInt.default(300),
    })
    .prefault({}),
  dispute: z
    .strictObject({
      /** Optimistic models: model id → content id of the VQM folder's manifest.json. */
      manifests: z
        .record(z.string().regex(/^\d+$/, { error: "expected a model id (digits)" }), z.string().min(1))
        .default({}),
    })
    .prefault({}),
  zk: z
    .strictObject({
      /** Zk models: model id → the model's build folder (holding vqm/ and zk/). */
      models: z
        .record(z.string().regex(/^\d+$/, { error: "expected a model id (digits)" }), z.string().min(1))
        .default({}),
    })
    .prefault({}),
  /** The keeper role (oracle/node/keeper.ts): wake due agents for their tip when it covers the gas. */
  keeper: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** Agents to watch: ids in the deployment's AgentRegistry, or account addresses. */
      agents: z.array(agentRef).default([]),
      /** Wake only when the tip exceeds the wake's gas cost at the current fee by at least this, in wei. */
      minTipOverGas: wei.default("0"),
      /** How often to look at the agents, in ms; default `chain.pollIntervalMs`. */
      pollIntervalMs: positiveInt.optional(),
    })
    .prefault({}),
  /** TEST-ONLY fault injection; refused unless VERITY_ALLOW_CHEAT=1 (see oracle/dispute/cheat.ts). */
  testing: z
    .strictObject({
      cheat: z
        .strictObject({
          /** A decoder's forward pass (required for a decoder; absent for other models). */
          pass: nonNegativeInt.optional(),
          layer: nonNegativeInt,
          element: nonNegativeInt,
          delta: z.int().refine((d) => d !== 0, { error: "a cheat of 0 changes nothing" }),
        })
        .optional(),
    })
    .optional(),
});

/**
 * A validated configuration, defaults applied: `rpcUrls` holds the node URLs whichever key gave
 * them, `models` holds the ids only, and the folders
 * given in `models` entries are in `modelFolders` (model id → absolute folder).
 */
export type VerityConfig = Omit<z.output<typeof verityConfigSchema>, "models" | "rpcUrl" | "rpcUrls"> & {
  /** The first of `rpcUrls`. */
  rpcUrl: string;
  /** `rpcUrls`, or `[rpcUrl]`: at least one. */
  rpcUrls: string[];
  models: string[];
  modelFolders: Record<string, string>;
};
/** What a config file may hold before defaults. */
export type VerityConfigInput = z.input<typeof verityConfigSchema>;

/** Every key path of the schema (`runtime.threads`, `storage.kind`, ...), for docs and tests. */
export function schemaKeyPaths(): string[] {
  const paths: string[] = [];
  const walk = (schema: z.ZodType, prefix: string) => {
    const inner = unwrap(schema);
    if (inner instanceof z.ZodObject) {
      for (const [key, child] of Object.entries(inner.shape as Record<string, z.ZodType>)) {
        const path = prefix === "" ? key : `${prefix}.${key}`;
        paths.push(path);
        walk(child, path);
      }
    } else if (inner instanceof z.ZodDiscriminatedUnion) {
      const seen = new Set<string>();
      for (const option of inner.options as z.ZodType[]) {
        const before = paths.length;
        walk(option, prefix);
        for (const added of paths.splice(before)) if (!seen.has(added)) seen.add(added);
      }
      paths.push(...seen);
    }
  };
  walk(verityConfigSchema, "");
  return paths;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    if (
      current instanceof z.ZodOptional ||
      current instanceof z.ZodDefault ||
      current instanceof z.ZodPrefault ||
      current instanceof z.ZodNullable
    ) {
      current = current.unwrap() as z.ZodType;
    } else if (current instanceof z.ZodPipe) {
      current = current.in as z.ZodType;
    } else {
      return current;
    }
  }
}
