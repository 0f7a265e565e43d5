/**
 * Small helpers around snarkjs: progress lines from its logger, and releasing the worker
 * threads its cached curve keeps alive (otherwise a CLI or test process never exits).
 */
import type { Logger } from "snarkjs";

/** Receives one line per step of a long operation. */
export type Progress = (line: string) => void;

/** A snarkjs logger that forwards throttled progress lines (snarkjs logs every few percent). */
export function snarkjsLogger(progress: Progress | undefined): Logger | undefined {
  if (!progress) return undefined;
  let last = 0;
  const info = (message: string) => {
    const now = Date.now();
    if (now - last < 2000) return;
    last = now;
    progress(`  ${message.trim()}`);
  };
  return {
    debug: () => {},
    info,
    warn: (message) => progress(`  warning: ${message}`),
    error: (message) => progress(`  error: ${message}`),
  };
}

type CachedCurve = { terminate(): Promise<void> };

/** Terminates the curve snarkjs caches on globalThis (its thread pool). */
export async function releaseCurve(): Promise<void> {
  const scope = globalThis as { curve_bn128?: CachedCurve | undefined };
  const curve = scope.curve_bn128;
  if (!curve) return;
  scope.curve_bn128 = undefined;
  await curve.terminate();
}
