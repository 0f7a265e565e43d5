import { BaseError } from "../errors.ts";

/** A terminal's input as the prompt uses it (process.stdin, or a stand-in in tests). */
export type PasswordInput = NodeJS.ReadableStream & {
  isTTY?: boolean | undefined;
  setRawMode?: ((mode: boolean) => unknown) | undefined;
  pause(): unknown;
  resume(): unknown;
};

export type PromptPasswordParameters = {
  /** Default process.stdin. */
  input?: PasswordInput | undefined;
  /** Where the question goes; default process.stderr (stdout stays the command's output). */
  output?: NodeJS.WritableStream | undefined;
};

/**
 * Reads a password typed on a terminal without echoing it: raw mode, Enter ends it, Backspace
 * deletes, Ctrl-C or Ctrl-D gives up with an error.
 */
export async function promptPassword(
  question: string,
  { input = process.stdin as PasswordInput, output = process.stderr }: PromptPasswordParameters = {},
): Promise<string> {
  // Echo goes off before the question shows: what is typed as soon as it appears is not echoed.
  const raw = typeof input.setRawMode === "function";
  if (raw) input.setRawMode!(true);
  output.write(question);
  input.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let typed = "";
      const onData = (chunk: Buffer | string) => {
        for (const char of chunk.toString("utf8")) {
          if (char === "\r" || char === "\n") return finish(() => resolve(typed));
          if (char === "\u0003" || char === "\u0004")
            return finish(() => reject(new BaseError("No password typed: cancelled.")));
          if (char === "\u007f" || char === "\b") typed = typed.slice(0, -1);
          else typed += char;
        }
      };
      const onEnd = () => finish(() => reject(new BaseError("No password typed: the input ended.")));
      const finish = (settle: () => void) => {
        input.removeListener("data", onData);
        input.removeListener("end", onEnd);
        settle();
      };
      input.on("data", onData);
      input.on("end", onEnd);
    });
  } finally {
    if (raw) input.setRawMode!(false);
    input.pause();
    output.write("\n");
  }
}
