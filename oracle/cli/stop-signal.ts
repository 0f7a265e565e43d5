/**
 * How a long-running command (`provider start`, `watch`, `devnet`) learns that it must stop.
 *
 * SIGINT and SIGTERM abort the signal this returns, and the command then stops cleanly (the
 * step in progress ends, state is closed, a last log line says so). A second SIGINT or SIGTERM
 * kills the process at once, as a supervisor that escalates expects.
 *
 * `npx verity ...` and `npm run verity -- ...` do not run the CLI themselves: npm starts
 * `sh -c verity ...`, and the shell starts Node. npm forwards SIGINT and SIGTERM to that shell
 * only; the shell dies of it without passing it on, and Node would go on running as an orphan.
 * So when npm started the process (it sets `npm_command`), the death of the parent counts as a
 * stop signal too: the process notices within a quarter of a second and stops the same way.
 */
export type StopReason = "SIGINT" | "SIGTERM" | "parent exited";

/** How often the parent is checked under npm; ms. */
const PARENT_CHECK_MS = 250;

export function stopSignal(onStop?: (reason: StopReason) => void): AbortSignal {
  const controller = new AbortController();
  const onSigint = () => stop("SIGINT");
  const onSigterm = () => stop("SIGTERM");
  const stop = (reason: StopReason) => {
    // From here on either signal has Node's default action: the process ends at once.
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigterm);
    clearInterval(parentCheck);
    onStop?.(reason);
    controller.abort(new StopRequestedError(reason));
  };
  process.once("SIGINT", onSigint);
  process.once("SIGTERM", onSigterm);
  let parentCheck: ReturnType<typeof setInterval> | undefined;
  if (process.env.npm_command !== undefined) {
    const parent = process.ppid;
    parentCheck = setInterval(() => {
      if (process.ppid !== parent) stop("parent exited");
    }, PARENT_CHECK_MS);
    parentCheck.unref();
  }
  return controller.signal;
}

/** The abort reason of a stop: not a failure of whatever was in progress. */
export class StopRequestedError extends Error {
  override name = "AbortError";
  readonly reason: StopReason;
  constructor(reason: StopReason) {
    super(`Stopped (${reason}).`);
    this.reason = reason;
  }
}
