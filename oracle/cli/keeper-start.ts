import { createLogger } from "../log/logger.ts";
import { connectDaemon } from "../node/connect-daemon.ts";
import { runKeeper } from "../node/keeper.ts";
import { daemonOptions, daemonUsage, loadDaemonConfig } from "./chain-context.ts";
import type { Command } from "./command.ts";
import { CliInputError } from "./parse-options.ts";
import { stopSignal } from "./stop-signal.ts";

export const keeperStartCommand: Command = {
  summary: [
    "Run the keeper role alone: watch the agents of keeper.agents and wake each due one when its tip covers the",
    "wake's gas (plus keeper.minTipOverGas), until Ctrl-C or SIGTERM. `provider start` runs the same role beside",
    "the provider's when keeper.enabled is true. The account is paid the tips and pays the gas.",
  ].join("\n"),
  usage: `${daemonUsage}   (the provider config format: keeper.agents, keeper.minTipOverGas, stateDir)`,
  options: daemonOptions,
  maxPositionals: 0,
  async run(values) {
    const config = loadDaemonConfig(values);
    if (config.keeper.agents.length === 0)
      throw new CliInputError("keeper start: the config names no agent to keep (keeper.agents is empty).", {
        details: ['Add agent ids or account addresses: "keeper": { "agents": [1] } (config/verity.example.jsonc).'],
      });
    const logger = createLogger({ level: config.log.level, bindings: { service: "keeper" } });
    const signal = stopSignal((reason) => logger.info("stopping", { signal: reason }));
    const { provider, sender, deployment } = await connectDaemon(config, logger);
    try {
      await runKeeper({
        provider,
        sender,
        deployment,
        keeper: config.keeper,
        pollIntervalMs: config.chain.pollIntervalMs,
        stateDir: config.stateDir,
        logger,
        signal,
      });
    } finally {
      provider.destroy();
    }
  },
};
