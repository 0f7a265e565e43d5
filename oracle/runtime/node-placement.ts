/**
 * Reads onnxruntime's own account of where it placed a session's nodes. At the verbose log level
 * (`createSession({ verbose: true })`) onnxruntime 1.30 prints, while it finalizes the session
 * (session_state.cc, VerifyEachNodeIsAssignedToAnEp):
 *
 *   … VerifyEachNodeIsAssignedToAnEp] Node placements
 *   … VerifyEachNodeIsAssignedToAnEp]  All nodes placed on [CPUExecutionProvider]. Number of nodes: 30
 *
 * when one provider runs every node (names not listed), or one block per provider:
 *
 *   … VerifyEachNodeIsAssignedToAnEp]  Node(s) placed on [CUDAExecutionProvider]. Number of nodes: 2
 *   … VerifyEachNodeIsAssignedToAnEp]   MatMulInteger (l0_matmul)
 *
 * Errors (E lines: a provider library that does not load, with the loader's reason) are kept too.
 * Pure functions over the log text; the probe (probe-placement.ts) produces it.
 */

export type PlacedNode = { opType: string; name: string };

export type ProviderPlacement = {
  /** onnxruntime's provider name, e.g. "CPUExecutionProvider", "CUDAExecutionProvider". */
  provider: string;
  count: number;
  /** The nodes, when onnxruntime listed them (it does when more than one provider has nodes). */
  nodes: PlacedNode[] | undefined;
};

export type SessionLog = {
  placements: ProviderPlacement[];
  /** onnxruntime's error lines, without time stamp and source location. */
  errors: string[];
};

const placedLine =
  /VerifyEachNodeIsAssignedToAnEp\] {2}(All nodes|Node\(s\)) placed on \[(\w+)\]\. Number of nodes: (\d+)/;
const nodeLine = /VerifyEachNodeIsAssignedToAnEp\] {3}(\S+) \((.*)\)\s*$/;
const errorLine = /\[E:onnxruntime:[^\]]*\] (.*)$/;

// eslint-disable-next-line no-control-regex -- onnxruntime colours its lines with ANSI escapes on a terminal
const ansi = /\u001b\[[0-9;]*m/g;

export function parseSessionLog(log: string): SessionLog {
  const placements: ProviderPlacement[] = [];
  const errors: string[] = [];
  let current: ProviderPlacement | undefined;
  for (const raw of log.split("\n")) {
    const line = raw.replace(ansi, "");
    const placed = placedLine.exec(line);
    if (placed) {
      current = { provider: placed[2]!, count: Number(placed[3]), nodes: placed[1] === "All nodes" ? undefined : [] };
      placements.push(current);
      continue;
    }
    const node = nodeLine.exec(line);
    if (node && current?.nodes) {
      current.nodes.push({ opType: node[1]!, name: node[2]! });
      continue;
    }
    const error = errorLine.exec(line);
    if (error) errors.push(withoutSourcePrefix(error[1]!.trim()));
  }
  return { placements, errors };
}

/** "provider_bridge_ort.cc:2146 Create] /src/…cc:1988 … : FAIL : Failed to load …" → "Failed to load …". */
function withoutSourcePrefix(message: string): string {
  const fail = message.lastIndexOf(" : FAIL : ");
  if (fail >= 0) return message.slice(fail + " : FAIL : ".length);
  return message.replace(/^\S+\.cc:\d+ \S+\] /, "");
}
