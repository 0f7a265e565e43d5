import { readFileSync } from "node:fs";
import path from "node:path";
import type { z } from "zod/v4";
import { BaseError } from "../errors.ts";
import { schemaKeyPaths, verityConfigSchema } from "./schema.ts";
import type { VerityConfig } from "./schema.ts";
import { stripJsonComments } from "./strip-json-comments.ts";
import { parseJsonText } from "../util/parse-json.ts";

export class ConfigError extends BaseError {
  override name = "ConfigError";
  constructor(shortMessage: string, { details, cause }: { details?: string[]; cause?: unknown } = {}) {
    super(shortMessage, { details, cause });
  }
}

export type LoadConfigParameters = {
  /** A JSON or JSONC file. Without one, the configuration comes from the environment alone. */
  file?: string | undefined;
  /** Default process.env. */
  env?: Record<string, string | undefined> | undefined;
  /** Base for relative paths given in the environment (and when there is no file). Default process.cwd(). */
  cwd?: string | undefined;
};

/**
 * Loads the configuration: the file, then environment overrides, then validation with defaults.
 * Relative paths resolve against the file's folder; those from the environment against `cwd`.
 * Throws ConfigError listing every bad key at once. Synchronous: it runs once, at start-up.
 */
export function loadConfig({ file, env = process.env, cwd = process.cwd() }: LoadConfigParameters = {}): VerityConfig {
  let text: string | undefined;
  if (file !== undefined) {
    try {
      text = readFileSync(path.resolve(cwd, file), "utf8");
    } catch (error) {
      throw new ConfigError(`Cannot read the config file ${file}.`, {
        details: [String((error as Error).message)],
        cause: error,
      });
    }
  }
  return parseConfig({
    text,
    source: file,
    env,
    cwd,
    baseDir: file === undefined ? cwd : path.dirname(path.resolve(cwd, file)),
  });
}

export type ParseConfigParameters = {
  /** JSONC text; undefined for no file. */
  text: string | undefined;
  /** Where the text came from, for messages. */
  source?: string | undefined;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Base for relative paths from the text. */
  baseDir: string;
};

/** The pure part of loadConfig: text and environment in, validated configuration out. */
export function parseConfig({ text, source = "config", env, cwd, baseDir }: ParseConfigParameters): VerityConfig {
  const raw = text === undefined ? {} : parseJsonc(text, source);
  const fromEnv = applyEnv(raw, env);

  const result = verityConfigSchema.safeParse(raw, { reportInput: true });
  const noNode = raw.rpcUrl === undefined && raw.rpcUrls === undefined ? [NO_NODE] : [];
  if (!result.success) {
    throw new ConfigError(`Invalid configuration${text === undefined ? "" : ` in ${source}`}.`, {
      details: [...noNode, ...result.error.issues.flatMap((issue) => describeIssue(issue, fromEnv))],
    });
  }

  const resolve = (key: string, value: string) => path.resolve(fromEnv.has(key) ? cwd : baseDir, value);
  const { models, modelFolders, problems } = splitModelEntries(result.data, (dir) => resolve("models", dir));
  const rpcUrls = rpcUrlsOf(result.data, problems);
  problems.push(...noNode);
  if (result.data.keeper.enabled && result.data.keeper.agents.length === 0)
    problems.push("keeper.agents: keeper.enabled is true but no agent is listed: give agent ids or account addresses");
  if (problems.length > 0)
    throw new ConfigError(`Invalid configuration${text === undefined ? "" : ` in ${source}`}.`, { details: problems });
  const config: VerityConfig = { ...result.data, rpcUrl: rpcUrls[0] ?? "", rpcUrls, models, modelFolders };
  config.deployment = resolve("deployment", config.deployment);
  config.stateDir = resolve("stateDir", config.stateDir);
  if (config.keystore !== undefined) config.keystore = resolve("keystore", config.keystore);
  // New objects, never writes into the parsed ones: zod hands out its defaults by reference, so a
  // write would leak one file's paths into every later config.
  if (config.storage.kind === "embedded")
    config.storage = { ...config.storage, dir: resolve("storage.dir", config.storage.dir) };
  config.zk = {
    ...config.zk,
    models: Object.fromEntries(Object.entries(config.zk.models).map(([id, dir]) => [id, resolve("zk.models", dir)])),
  };
  return config;
}

const NO_NODE = "rpcUrl: Required (or rpcUrls: [url, ...] for several nodes of one chain)";

/** The node URLs from `rpcUrl` or `rpcUrls` (at most one of them), adding to `problems` what is wrong. */
function rpcUrlsOf(data: z.output<typeof verityConfigSchema>, problems: string[]): string[] {
  if (data.rpcUrl !== undefined && data.rpcUrls !== undefined) {
    problems.push("rpcUrls: rpcUrl is given too: keep one of them (rpcUrls: [url, ...] for several nodes)");
    return [];
  }
  const urls = data.rpcUrls ?? (data.rpcUrl === undefined ? [] : [data.rpcUrl]);
  urls.forEach((url, index) => {
    if (urls.indexOf(url) !== index) problems.push(`rpcUrls[${index}]: ${url} is listed twice`);
  });
  return urls;
}

/**
 * The ids of `models` and the folders its `{ id, folder }` entries name (resolved), and what is
 * wrong: a model with a folder listed twice, or with a folder and a `zk.models` / `dispute.manifests` entry
 * (one model, one source).
 */
function splitModelEntries(
  data: z.output<typeof verityConfigSchema>,
  resolve: (dir: string) => string,
): Pick<VerityConfig, "models" | "modelFolders"> & { problems: string[] } {
  const models: string[] = [];
  const modelFolders: Record<string, string> = {};
  const problems: string[] = [];
  const idOf = (entry: (typeof data.models)[number]) => (typeof entry === "string" ? entry : entry.id);
  data.models.forEach((entry, index) => {
    const id = idOf(entry);
    if (data.models.findIndex((other) => idOf(other) === id) !== index && modelFolders[id] !== undefined)
      problems.push(`models[${index}]: model ${id} is listed again after its folder entry: list it once`);
    models.push(id);
    if (typeof entry === "string") return;
    modelFolders[id] = resolve(entry.folder);
    for (const other of ["zk.models", "dispute.manifests"] as const) {
      const map = other === "zk.models" ? data.zk.models : data.dispute.manifests;
      if (map[id] !== undefined)
        problems.push(`models[${index}]: model ${id} has a folder and a ${other} entry: keep one of them`);
    }
  });
  return { models, modelFolders, problems };
}

function parseJsonc(text: string, source: string): Record<string, unknown> {
  let value: unknown;
  try {
    // Comments become spaces: the line and column are the original text's. No text is quoted (it may hold a key).
    value = parseJsonText(stripJsonComments(text), source);
  } catch (error) {
    const { shortMessage, details } = error as BaseError;
    throw new ConfigError(shortMessage, { details, cause: error });
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ConfigError(`${source} must hold a JSON object.`);
  }
  return value as Record<string, unknown>;
}

/** Environment variable → config key. Values are strings; the schema checks them like the file's. */
export const ENV_KEYS = {
  VERITY_RPC_URL: "rpcUrl",
  VERITY_RPC_URLS: "rpcUrls",
  VERITY_PRIVATE_KEY: "privateKey",
  VERITY_KEYSTORE: "keystore",
  VERITY_DEPLOYMENT: "deployment",
  VERITY_STATE_DIR: "stateDir",
  VERITY_STORAGE_DIR: "storage.dir",
  VERITY_KUBO_URL: "storage.url",
  VERITY_MODELS: "models",
  VERITY_EXECUTION_PROVIDER: "runtime.executionProvider",
  VERITY_LOG_LEVEL: "log.level",
  VERITY_METRICS_PORT: "metrics.port",
} as const;

/** Writes the environment's values into `raw`; returns which key came from which variable. */
function applyEnv(raw: Record<string, unknown>, env: Record<string, string | undefined>): Map<string, string> {
  const fromEnv = new Map<string, string>();
  // An empty variable counts as unset, as shells make it easy to export one by mistake.
  const get = (name: string) => (env[name] === undefined || env[name] === "" ? undefined : env[name]);

  const kuboUrl = get("VERITY_KUBO_URL");
  const storageDir = get("VERITY_STORAGE_DIR");
  if (kuboUrl !== undefined && storageDir !== undefined) {
    throw new ConfigError("Conflicting storage settings in the environment.", {
      details: ["VERITY_KUBO_URL selects a kubo node, VERITY_STORAGE_DIR the embedded store: set one of them."],
    });
  }
  const rpcUrl = get("VERITY_RPC_URL");
  const rpcUrls = get("VERITY_RPC_URLS");
  if (rpcUrl !== undefined && rpcUrls !== undefined) {
    throw new ConfigError("Conflicting node settings in the environment.", {
      details: ["VERITY_RPC_URL names one node, VERITY_RPC_URLS several (comma-separated): set one of them."],
    });
  }
  // Either replaces both file keys: the environment names the nodes whole.
  if (rpcUrl !== undefined || rpcUrls !== undefined) {
    delete raw.rpcUrl;
    delete raw.rpcUrls;
  }
  // Each replaces the whole storage object: its kind changes which other keys are valid.
  if (kuboUrl !== undefined) raw.storage = { kind: "kubo", url: kuboUrl };
  if (storageDir !== undefined) raw.storage = { kind: "embedded", dir: storageDir };

  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const value = get(name);
    if (value === undefined) continue;
    fromEnv.set(key, name);
    if (key.startsWith("storage.")) continue; // handled above
    setPath(raw, key.split("."), parseEnvValue(key, value));
  }
  return fromEnv;
}

function parseEnvValue(key: string, value: string): unknown {
  if (key === "models" || key === "rpcUrls")
    return value
      .split(",")
      .map((id) => id.trim())
      .filter((id) => id !== "");
  if (key === "metrics.port") {
    if (["null", "off", "none"].includes(value.toLowerCase())) return null;
    // Non-numbers stay strings so the schema names them in its error.
    return /^\d+$/.test(value) ? Number(value) : value;
  }
  return value.trim();
}

function setPath(target: Record<string, unknown>, keys: string[], value: unknown): void {
  const [head, ...rest] = keys;
  if (head === undefined) return;
  if (rest.length === 0) {
    target[head] = value;
    return;
  }
  const child = target[head] ?? {};
  // A non-object here is a mistake in the file; leave it for the schema to report.
  if (typeof child !== "object" || child === null || Array.isArray(child)) return;
  target[head] = child;
  setPath(child as Record<string, unknown>, rest, value);
}

const SECRET_KEYS = new Set(["privateKey"]);

/** One line per problem: `path: what is wrong`, naming the environment variable when it was one. */
function describeIssue(issue: z.core.$ZodIssue, fromEnv: Map<string, string>): string[] {
  const where = (keys: readonly PropertyKey[]) => {
    const key = formatPath(keys);
    const name = fromEnv.get(key);
    return name === undefined ? key : `${key} (from ${name})`;
  };

  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => {
      const keyPath = [...issue.path, key];
      const hint = suggest(formatPath(keyPath));
      return `${formatPath(keyPath)}: unknown key${hint === undefined ? "" : ` (did you mean "${hint}"?)`}`;
    });
  }

  const key = formatPath(issue.path);
  const input = issue.input;
  if (issue.code === "invalid_type" && input === undefined) return [`${where(issue.path)}: Required`];

  let expected: string;
  let got: unknown = input;
  if (issue.code === "invalid_value") {
    expected = `expected ${issue.values.map((v) => JSON.stringify(v)).join(" | ")}`;
  } else if (issue.code === "invalid_union" && issue.errors.length === 0 /* no matching discriminator */) {
    expected = 'expected "embedded" | "kubo"';
    got = (input as Record<string, unknown> | undefined)?.kind;
  } else if (issue.message.startsWith("expected")) {
    expected = issue.message; // one of the schema's own messages
  } else if (issue.code === "invalid_type") {
    const names: Record<string, string> = {
      int: "an integer",
      number: "a number",
      string: "a string",
      object: "an object",
      array: "an array",
    };
    expected = `expected ${names[issue.expected] ?? issue.expected}`;
  } else if (issue.code === "too_small") {
    expected =
      issue.origin === "string"
        ? "expected a non-empty string"
        : `expected ${issue.inclusive ? "at least" : "more than"} ${issue.minimum}`;
  } else if (issue.code === "too_big") {
    expected = `expected ${issue.inclusive ? "at most" : "less than"} ${issue.maximum}`;
  } else {
    expected = issue.message;
  }

  const shown = SECRET_KEYS.has(key) ? "a value that is not shown" : describeValue(got);
  return [`${where(issue.path)}: ${expected}, got ${shown}`];
}

function formatPath(keys: readonly PropertyKey[]): string {
  return keys.map((k, i) => (typeof k === "number" ? `[${k}]` : `${i === 0 ? "" : "."}${String(k)}`)).join("");
}

function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  return String(value);
}

/** The known key nearest to a mistyped one (same parent, edit distance <= 2 or case only). */
function suggest(keyPath: string): string | undefined {
  const parent = keyPath.includes(".") ? keyPath.slice(0, keyPath.lastIndexOf(".")) : "";
  const leaf = keyPath.slice(parent === "" ? 0 : parent.length + 1);
  let best: { key: string; distance: number } | undefined;
  for (const candidate of schemaKeyPaths()) {
    const candidateParent = candidate.includes(".") ? candidate.slice(0, candidate.lastIndexOf(".")) : "";
    if (candidateParent !== parent) continue;
    const candidateLeaf = candidate.slice(parent === "" ? 0 : parent.length + 1);
    const distance = candidateLeaf.toLowerCase() === leaf.toLowerCase() ? 0 : editDistance(candidateLeaf, leaf);
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length]!;
}
