import type { Command } from "../cli.ts";
import { createLogger } from "../log/logger.ts";
import { runWatchtower } from "../node/watchtower.ts";
import { daemonOptions, daemonUsage, loadDaemonConfig } from "./chain-context.ts";
import { stopSignal } from "./stop-signal.ts";

export const watchCommand: Command = {
  summary:
    "Run a watchtower: re-execute Optimistic results, open its own game against each wrong one (whatever games are open) and play it to the end.",
  usage: `${daemonUsage}   (the provider config format: models to watch, dispute.manifests, stateDir; the account posts the bonds)`,
  options: daemonOptions,
  maxPositionals: 0,
  async run(values) {
    const config = loadDaemonConfig(values);
    const logger = createLogger({ level: config.log.level, bindings: { service: "watchtower" } });
    const signal = stopSignal((reason) => logger.info("stopping", { signal: reason }));
    await runWatchtower({ config, logger, signal });
  },
};
