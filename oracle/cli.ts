import { parseArgs, type ParseArgsConfig } from "node:util";
import { BaseError } from "./errors.ts";

/** One CLI command: its options and what it does with them. */
export type Command = {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig["options"]>;
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<void>;
};

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
  "keystore create": async () => (await import("./cli/keystore-create.ts")).keystoreCreateCommand,
  request: async () => (await import("./cli/request.ts")).requestCommand,
  watch: async () => (await import("./cli/watch.ts")).watchCommand,
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
    "Run `verity <command> --help` for the options of one command.",
  ].join("\n");
}

async function main(argv: string[]): Promise<void> {
  const name = [`${argv[0]} ${argv[1]}`, argv[0]].find((candidate) => candidate && candidate in commands);
  if (!name) {
    if (argv.length === 0 || argv[0] === "--help" || argv[0] === "help") return void console.log(help());
    throw new BaseError(`Unknown command: ${argv.slice(0, 2).join(" ")}`, { details: [help()] });
  }
  const command = await commands[name]!();
  const rest = argv.slice(name.split(" ").length);
  if (rest.includes("--help")) return void console.log(`${command.summary}\n\nUsage: verity ${name} ${command.usage}`);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true });
  } catch (cause) {
    throw new BaseError(`verity ${name}: ${(cause as Error).message}`, {
      details: [`Usage: verity ${name} ${command.usage}`],
    });
  }
  await command.run(parsed.values as Record<string, string | boolean | undefined>, parsed.positionals);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof BaseError) {
    console.error(`error: ${error.shortMessage}`);
    for (const line of error.details) console.error(`  ${line}`);
    if (process.env.VERITY_DEBUG) console.error(error);
  } else console.error(error);
  process.exitCode = 1;
});
