import type { Command } from "./command.ts";
import { createRpcProvider } from "../chain/connect.ts";
import { readDeployment } from "../chain/deployment.ts";
import { resolveNetwork } from "../chain/networks.ts";
import { BaseError, errorMessage } from "../errors.ts";
import { startExplorer, DEFAULT_EXPLORER_PORT } from "../explorer/explorer-server.ts";
import { createChainReader } from "../explorer/index-chain.ts";
import { checkNode } from "./chain-context.ts";
import { parseCount } from "./parse-options.ts";
import { stopSignal } from "./stop-signal.ts";

export const explorerCommand: Command = {
  summary:
    "Serve a live page of the market on 127.0.0.1: requests, models, providers, disputes and agents, read from the chain and updated every second, until Ctrl-C (or SIGTERM).",
  usage: `[--port ${DEFAULT_EXPLORER_PORT}] [--network NAME] [--rpc URL] [--deployment FILE]   (read-only: no key needed)`,
  options: {
    port: { type: "string", default: String(DEFAULT_EXPLORER_PORT) },
    network: { type: "string" },
    rpc: { type: "string" },
    deployment: { type: "string" },
  },
  maxPositionals: 0,
  async run(values) {
    const port = parseCount("--port", values.port as string, { max: 65_535 });
    const network = resolveNetwork({
      network: values.network as string | undefined,
      rpc: values.rpc as string | undefined,
      deployment: values.deployment as string | undefined,
    });
    const provider = createRpcProvider(network.rpcUrl, 1000);
    try {
      // The same checks as every chain command: the node answers, and is the deployment's chain.
      const chainId = await checkNode(provider, network);
      const deployment = readDeployment(network.deploymentFile);
      if (deployment.chainId !== chainId)
        throw new BaseError(
          `The deployment ${network.deploymentFile} is for chain ${deployment.chainId} but the node is chain ${chainId}.`,
          { details: ["Name the network the deployment was made on (--network NAME), or pass its --deployment FILE."] },
        );
      const signal = stopSignal();
      const reader = await createChainReader({ provider, deployment });
      let lastError = "";
      const explorer = await startExplorer({
        reader,
        startBlock: deployment.startBlock,
        port,
        // One line per new kind of failure, not one per second while the node is down.
        onPollError: (error) => {
          const line = errorMessage(error).split("\n")[0]!;
          if (line !== lastError) console.error(`explorer: cannot read the chain: ${line}`);
          lastError = line;
        },
      });
      console.log(`explorer ${explorer.url} (chain ${chainId}, ${network.name}); Ctrl-C stops it`);
      if (!signal.aborted) await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
      await explorer.close();
      console.log("explorer stopped");
    } finally {
      provider.destroy();
    }
  },
};
