import type { Command } from "../cli.ts";
import { loadConfig } from "../config/load-config.ts";
import { createLogger } from "../log/logger.ts";
import { runWatchtower } from "../node/watchtower.ts";

export const watchCommand: Command = {
  summary:
    "Run a watchtower: re-execute Optimistic results, open its own game against each wrong one (whatever games are open) and play it to the end.",
  usage:
    "[--config FILE]   (the provider config format: models to watch, dispute.manifests, stateDir; the account posts the bonds)",
  options: { config: { type: "string" } },
  async run(values) {
    const config = loadConfig({ file: values.config as string | undefined, env: process.env });
    const logger = createLogger({ level: config.log.level, bindings: { service: "watchtower" } });
    const controller = new AbortController();
    for (const signal of ["SIGINT", "SIGTERM"] as const)
      process.once(signal, () => {
        logger.info("stopping", { signal });
        controller.abort();
      });
    await runWatchtower({ config, logger, signal: controller.signal });
  },
};
