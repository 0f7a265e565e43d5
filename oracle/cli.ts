import { parseArgs } from "node:util";
import type { Command } from "./cli/command.ts";
import { environmentSecrets, formatCliError } from "./cli/format-error.ts";
import { closest } from "./cli/parse-options.ts";
import { BaseError } from "./errors.ts";

export type { Command } from "./cli/command.ts";

const commands: Record<string, () => Promise<Command>> = {
  devnet: async () => (await import("./cli/devnet.ts")).devnetCommand,
  deploy: async () => (await import("./cli/deploy.ts")).deployCommand,
  "content add": async () => (await import("./cli/content-commands.ts")).contentAddCommand,
  "content get": async () => (await import("./cli/content-commands.ts")).contentGetCommand,
  "model compile": async () => (await import("./cli/model-compile.ts")).modelCompileCommand,
  "model register": async () => (await import("./cli/model-register.ts")).modelRegisterCommand,
  "model run": async () => (await import("./cli/model-run.ts")).modelRunCommand,
  "model inspect": async () => (await import("./cli/model-inspect.ts")).modelInspectCommand,
  "provider stake": async () => (await import("./cli/provider-commands.ts")).providerStakeCommand,
  "provider start": async () => (await import("./cli/provider-commands.ts")).providerStartCommand,
  "provider status": async () => (await import("./cli/provider-commands.ts")).providerStatusCommand,
  "provider doctor": async () => (await import("./cli/provider-doctor.ts")).providerDoctorCommand,
  "provider unbond": async () => (await import("./cli/provider-unbond.ts")).providerUnbondCommand,
  "runtime serve": async () => (await import("./cli/runtime-serve.ts")).runtimeServeCommand,
  "keystore create": async () => (await import("./cli/keystore-create.ts")).keystoreCreateCommand,
  request: async () => (await import("./cli/request.ts")).requestCommand,
  balance: async () => (await import("./cli/balance.ts")).balanceCommand,
  withdraw: async () => (await import("./cli/withdraw.ts")).withdrawCommand,
  expire: async () => (await import("./cli/expire.ts")).expireCommand,
  watch: async () => (await import("./cli/watch.ts")).watchCommand,
  explorer: async () => (await import("./cli/explorer.ts")).explorerCommand,
  "keeper start": async () => (await import("./cli/keeper-start.ts")).keeperStartCommand,
  "agent create": async () => (await import("./cli/agent-create.ts")).agentCreateCommand,
  "agent fund": async () => (await import("./cli/agent-fund.ts")).agentFundCommand,
  "agent policy": async () => (await import("./cli/agent-policy.ts")).agentPolicyCommand,
  "agent status": async () => (await import("./cli/agent-status.ts")).agentStatusCommand,
  "agent wake": async () => (await import("./cli/agent-wake.ts")).agentWakeCommand,
  "agent withdraw": async () => (await import("./cli/agent-withdraw.ts")).agentWithdrawCommand,
  "agent validate": async () => (await import("./cli/agent-validate.ts")).agentValidateCommand,
  "zk build": async () => (await import("./cli/zk-commands.ts")).zkBuildCommand,
  "zk prove": async () => (await import("./cli/zk-commands.ts")).zkProveCommand,
  "zk verify": async () => (await import("./cli/zk-commands.ts")).zkVerifyCommand,
};

function help(): string {
  return [
    "Usage: verity <command> [options]",
    "",
    "Commands:",
    ...Object.keys(commands).map((name) => `  ${name}`),
    "",
    "Run `verity <command> --help` for the options of one command; --verbose shows the stack of an error.",
  ].join("\n");
}

/** `--verbose`, or DEBUG / VERITY_DEBUG set (to anything but 0 or false): errors show their stack. */
function wantsVerbose(argv: string[], env: Record<string, string | undefined>): boolean {
  const on = (value: string | undefined) => value !== undefined && !["", "0", "false"].includes(value.toLowerCase());
  return argv.includes("--verbose") || on(env.DEBUG) || on(env.VERITY_DEBUG);
}

async function main(argv: string[]): Promise<void> {
  const name = [`${argv[0]} ${argv[1]}`, argv[0]].find((candidate) => candidate && candidate in commands);
  if (!name) {
    if (argv.length === 0 || argv[0] === "--help" || argv[0] === "help") return void console.log(help());
    const typed = argv.slice(0, argv[1]?.startsWith("-") === false ? 2 : 1).join(" ");
    const guess = closest(typed, Object.keys(commands)) ?? closest(argv[0] ?? "", Object.keys(commands));
    throw new BaseError(`Unknown command: verity ${typed}${guess ? ` (did you mean verity ${guess}?)` : ""}.`, {
      details: ["Run `npx verity --help` for the list of commands."],
    });
  }
  const command = await commands[name]!();
  const rest = argv.slice(name.split(" ").length);
  const usage = `verity ${name} ${command.usage}`;
  if (rest.includes("--help")) return void console.log(`${command.summary}\n\nUsage: ${usage}`);
  const parsed = parseOptions(name, command, rest, usage);
  await command.run(parsed.values as Record<string, string | boolean | undefined>, parsed.positionals);
}

/** parseArgs with its errors put as one line naming the flag (and the nearest known one). */
function parseOptions(name: string, command: Command, args: string[], usage: string) {
  let parsed;
  try {
    parsed = parseArgs({ args, options: command.options, allowPositionals: true, strict: true });
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    const message = (cause as Error).message;
    const flag = /'(--?[\w-]+)/.exec(message)?.[1] ?? "";
    let problem = message.split(". ")[0]!;
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      const guess = closest(flag.replace(/^-+/, ""), Object.keys(command.options));
      problem = `unknown option ${flag}${guess ? ` (did you mean --${guess}?)` : ""}`;
    } else if (message.includes("argument is ambiguous"))
      problem = `${flag} needs a value; one that starts with - is written ${flag}=-VALUE`;
    else if (message.includes("argument missing")) problem = `${flag} needs a value`;
    else if (message.includes("does not take an argument")) problem = `${flag} takes no value`;
    throw new BaseError(`verity ${name}: ${problem}.`, { details: [`Usage: ${usage}`], cause });
  }
  const max = command.maxPositionals;
  if (max !== undefined && parsed.positionals.length > max) {
    const extra = parsed.positionals[max]!;
    throw new BaseError(
      `verity ${name}: unexpected argument ${/^(0x)?[0-9a-fA-F]{64}$/.test(extra) ? "(not shown)" : JSON.stringify(extra)}.`,
      { details: [`Usage: ${usage}`] },
    );
  }
  return parsed;
}

const argv = process.argv.slice(2);
const verbose = wantsVerbose(argv, process.env);

/** Prints `error` the CLI's way and ends the process with a non-zero code. */
function fail(error: unknown): void {
  for (const line of formatCliError(error, { verbose, secrets: environmentSecrets() })) console.error(line);
  process.exitCode = 1;
  // A failed command may leave a timer or a socket behind (a provider still polling): do not hang on it.
  setTimeout(() => process.exit(), 200).unref();
}

// Errors thrown outside the command's own flow (an event handler, a stray promise) print the same way.
process.on("uncaughtException", fail);
process.on("unhandledRejection", fail);

main(argv.filter((arg) => arg !== "--verbose")).then(
  // A finished one-shot command may leave a provider's timers behind: do not hang on them either.
  () => void setTimeout(() => process.exit(), 200).unref(),
  fail,
);
