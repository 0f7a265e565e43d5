import type { ParseArgsConfig } from "node:util";

/** One CLI command: its options and what it does with them. */
export type Command = {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig["options"]>;
  /**
   * How many positional arguments the command takes (FILE, DIR, IDs…); more are refused with the
   * usage line. Default: any number (the command checks them).
   */
  maxPositionals?: number | undefined;
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<void>;
};
