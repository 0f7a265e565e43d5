/**
 * Turns JSONC into JSON: removes `//` and `/* *\/` comments and trailing commas, leaving string
 * contents alone (so `"http://host"` keeps its `//`). Comments become spaces, newlines are kept,
 * so JSON.parse positions still point at the right line and column of the original text.
 */
export function stripJsonComments(text: string): string {
  let out = "";
  let i = 0;
  let inString = false;
  // Index in `out` of a comma that may turn out to be trailing (only whitespace or comments after it).
  let pendingComma = -1;

  while (i < text.length) {
    const char = text[i]!;
    const next = text[i + 1];

    if (inString) {
      out += char;
      if (char === "\\" && next !== undefined) {
        out += next; // an escaped character, `\"` included, never ends the string
        i += 2;
        continue;
      }
      if (char === '"') inString = false;
      i++;
      continue;
    }

    if (char === "/" && next === "/") {
      const end = text.indexOf("\n", i);
      const stop = end === -1 ? text.length : end;
      out += blank(text.slice(i, stop));
      i = stop;
      continue;
    }
    if (char === "/" && next === "*") {
      const end = text.indexOf("*/", i + 2);
      if (end === -1) throw new SyntaxError(`Unterminated /* comment starting at ${lineColumn(text, i)}`);
      out += blank(text.slice(i, end + 2));
      i = end + 2;
      continue;
    }

    if (char === '"') {
      inString = true;
      pendingComma = -1;
    } else if (char === ",") {
      pendingComma = out.length;
    } else if ((char === "}" || char === "]") && pendingComma !== -1) {
      out = `${out.slice(0, pendingComma)} ${out.slice(pendingComma + 1)}`;
      pendingComma = -1;
    } else if (!/\s/.test(char)) {
      pendingComma = -1;
    }
    out += char;
    i++;
  }
  return out;
}

/** Spaces for every character but line breaks, so positions survive. */
function blank(text: string): string {
  return text.replace(/[^\r\n]/g, " ");
}

function lineColumn(text: string, index: number): string {
  const before = text.slice(0, index).split("\n");
  return `line ${before.length} column ${before.at(-1)!.length + 1}`;
}
