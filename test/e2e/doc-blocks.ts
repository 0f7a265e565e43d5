/**
 * The fenced blocks of a markdown document that a test plays: shell blocks marked
 * ```` ```sh test:ID[:MODE] ```` and file blocks marked ```` ```jsonc file:NAME ````.
 */

/** `run` (the default): every line must succeed; `background`: a daemon, stopped at the end;
 * `dry-run`: run with the test's dry-run switch; `env`: settings the test supplies itself;
 * `skip`: shown, not run (its paths are checked). */
export type BlockMode = "run" | "background" | "dry-run" | "env" | "skip";

export type ShellBlock = { kind: "sh"; id: string; mode: BlockMode; body: string; line: number };
export type FileBlock = { kind: "file"; name: string; lang: string; body: string; line: number };
export type DocBlock = ShellBlock | FileBlock;

const modes: readonly BlockMode[] = ["run", "background", "dry-run", "env", "skip"];

/** Every fenced block of `markdown` in order; a shell block without a `test:` marker is an error. */
export function docBlocks(markdown: string, source = "document"): DocBlock[] {
  const blocks: DocBlock[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const [, lang = "", info = ""] = open;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    const text = body.join("\n") + "\n";
    const line = start + 1;
    const test = /(?:^|\s)test:([\w-]+)(?::([\w-]+))?(?:\s|$)/.exec(info);
    const file = /(?:^|\s)file:(\S+)/.exec(info);
    if (["sh", "bash", "shell"].includes(lang)) {
      if (!test) throw new Error(`${source}:${line}: a shell block without a test:ID marker`);
      const mode = (test[2] ?? "run") as BlockMode;
      if (!modes.includes(mode)) throw new Error(`${source}:${line}: unknown mode ${mode}`);
      blocks.push({ kind: "sh", id: test[1]!, mode, body: text, line });
    } else if (file) blocks.push({ kind: "file", name: file[1]!, lang, body: text, line });
  }
  return blocks;
}

/** The commands of a shell block: one per line, comments and blank lines left out. */
export function commandsOf(block: ShellBlock): string[] {
  return block.body
    .split("\n")
    .map((line) => line.replace(/(^|\s)#.*$/, "").trim())
    .filter((line) => line !== "");
}
