/**
 * The explorer's reading half: brings a {@link ChainIndex} up to the chain's head in bounded
 * block ranges (one `eth_getLogs` over every suite contract per range), then reads the views
 * the page shows. Each poll starts where the last one stopped and re-reads a model, provider or
 * game only when an event named it, so the work of a poll follows what happened since the last
 * one, not the market's history.
 */
import { Interface, ZeroAddress, type JsonRpcProvider, type Log } from "ethers";
import { loadArtifact, type ContractName } from "../chain/artifacts.ts";
import type { Deployment } from "../chain/deployment.ts";
import { nextBlockRange } from "../chain/market-events.ts";
import { applyEvent, type ChainIndex, type ChainViews, type ExplorerEvent } from "./view-model.ts";

export type ChainReaderParameters = {
  provider: JsonRpcProvider;
  deployment: Deployment;
  /** Blocks per `eth_getLogs`; public nodes refuse large ranges. Default 2,000. */
  maxBlockRange?: number | undefined;
  /** Ranges scanned per poll at most, so the page comes up while a long history is read. Default 20. */
  maxRangesPerPoll?: number | undefined;
  /** Request receipts read per poll (for their gas), newest first. Default 20. */
  receiptsPerPoll?: number | undefined;
};

export type ChainReader = {
  /** Whether the deployment has an AgentRegistry (the page then shows agents). */
  hasAgents: boolean;
  /** Applies the events since `index.cursor` (up to the head) and returns the views at the head. */
  poll(index: ChainIndex): Promise<ChainViews>;
};

type Source = { name: ContractName; iface: Interface };

const GAME_MOVES = new Set([
  "DefenderRevealed",
  "ChallengerBisected",
  "ChunkRevealed",
  "StepProved",
  "SumOpened",
  "SumClaimed",
  "SumPosted",
  "SumPicked",
  "SumStepProved",
]);

/** The events a log is, decoded (none for logs the explorer does not show). */
export function decodeLog(source: ContractName, iface: Interface, log: Log): ExplorerEvent[] {
  const parsed = iface.parseLog(log);
  if (!parsed) return [];
  const a = parsed.args;
  const block = log.blockNumber;
  switch (`${source}.${parsed.name}`) {
    case "InferenceMarket.InferenceRequested":
      return [
        {
          kind: "requested",
          block,
          requestId: a.requestId as bigint,
          modelId: a.modelId as bigint,
          requester: a.requester as string,
          feeToken: a.feeToken as string,
          fee: a.fee as bigint,
          txHash: log.transactionHash,
        },
      ];
    case "InferenceMarket.RequestClaimed":
      return [{ kind: "claimed", block, requestId: a.requestId as bigint, provider: a.provider as string }];
    case "InferenceMarket.ResultSubmitted":
      return [{ kind: "submitted", block, requestId: a.requestId as bigint, provider: a.provider as string }];
    case "InferenceMarket.RequestReleased":
      return [{ kind: "released", block, requestId: a.requestId as bigint }];
    case "InferenceMarket.RequestFinalized":
      return [{ kind: "finalized", block, requestId: a.requestId as bigint }];
    case "InferenceMarket.RequestRefunded":
      return [{ kind: "refunded", block, requestId: a.requestId as bigint }];
    case "InferenceMarket.RequestFailed":
      return [
        {
          kind: "failed",
          block,
          requestId: a.requestId as bigint,
          provider: a.provider as string,
          reason: Number(a.reason),
        },
      ];
    case "InferenceMarket.ResultChallenged":
      return [{ kind: "challenged", block, requestId: a.requestId as bigint, openGames: a.openGames as bigint }];
    case "InferenceMarket.ChallengeResolved":
      return [{ kind: "challengeResolved", block, requestId: a.requestId as bigint, openGames: a.openGames as bigint }];
    case "ModelRegistry.ModelRegistered":
    case "ModelRegistry.ModelVerificationRegistered":
    case "ModelRegistry.ModelPriceUpdated":
    case "ModelRegistry.ModelDeprecated":
      return [{ kind: "model", block, modelId: a.modelId as bigint }];
    case "ProviderRegistry.Staked":
    case "ProviderRegistry.UnbondRequested":
    case "ProviderRegistry.UnbondedWithdrawn":
    case "ProviderRegistry.OptedIn":
    case "ProviderRegistry.StakeReserved":
    case "ProviderRegistry.StakeReleased":
    case "ProviderRegistry.Slashed":
    case "ProviderRegistry.JobRecorded":
    case "ProviderRegistry.JobsServed":
      return [{ kind: "provider", block, provider: a.provider as string }];
    case "DisputeGame.GameStarted":
      return [
        {
          kind: "gameStarted",
          block,
          gameId: a.gameId as bigint,
          requestId: a.requestId as bigint,
          challenger: a.challenger as string,
          defender: a.defender as string,
          layer: Number(a.layer),
        },
      ];
    case "DisputeGame.GameResolved":
      return [
        { kind: "gameResolved", block, gameId: a.gameId as bigint, winner: Number(a.winner), moot: a.moot as boolean },
      ];
    case "AgentRegistry.Registered":
      return [{ kind: "agentRegistered", block, agentId: a.agentId as bigint, owner: a.owner as string }];
    case "AgentRegistry.AccountCreated":
      return [{ kind: "agentAccount", block, agentId: a.agentId as bigint, account: a.account as string }];
  }
  if (source === "DisputeGame" && GAME_MOVES.has(parsed.name))
    return [{ kind: "gameMove", block, gameId: a.gameId as bigint, move: parsed.name }];
  return [];
}

/** Kinds whose block time the page shows (time to finality, age of a game's last move). */
const TIMED = new Set<ExplorerEvent["kind"]>(["requested", "finalized", "gameStarted", "gameMove"]);

export async function createChainReader({
  provider,
  deployment,
  maxBlockRange = 2000,
  maxRangesPerPoll = 20,
  receiptsPerPoll = 20,
}: ChainReaderParameters): Promise<ChainReader> {
  const { contracts } = deployment;
  const iface = (name: ContractName) => new Interface(loadArtifact(name).abi as never[]);
  const market = iface("InferenceMarket");
  const sources = new Map<string, Source>([
    [contracts.inferenceMarket.toLowerCase(), { name: "InferenceMarket", iface: market }],
    [contracts.modelRegistry.toLowerCase(), { name: "ModelRegistry", iface: iface("ModelRegistry") }],
    [contracts.providerRegistry.toLowerCase(), { name: "ProviderRegistry", iface: iface("ProviderRegistry") }],
  ]);
  const call = async (to: string, ifc: Interface, fn: string, args: unknown[] = []) =>
    ifc.decodeFunctionResult(fn, await provider.call({ to, data: ifc.encodeFunctionData(fn, args) }));

  // The dispute game is set on the market once, after deployment: look again until there is one.
  let gameAddress: string | undefined;
  const gameIface = iface("DisputeGame");
  const findGame = async () => {
    if (gameAddress !== undefined) return;
    const [address] = await call(contracts.inferenceMarket, market, "disputeGame");
    if (address === ZeroAddress) return;
    gameAddress = address as string;
    sources.set(gameAddress.toLowerCase(), { name: "DisputeGame", iface: gameIface });
  };
  const agentsIface = iface("AgentRegistry");
  if (contracts.agentRegistry)
    sources.set(contracts.agentRegistry.toLowerCase(), { name: "AgentRegistry", iface: agentsIface });

  const models: ChainViews["models"] = new Map();
  const providers: ChainViews["providers"] = new Map();
  const games: ChainViews["games"] = new Map();
  let gameClock: number | undefined;
  const modelRegistry = sources.get(contracts.modelRegistry.toLowerCase())!.iface;
  const providerRegistry = sources.get(contracts.providerRegistry.toLowerCase())!.iface;

  return {
    hasAgents: contracts.agentRegistry !== undefined,
    async poll(index) {
      await findGame();
      const head = await provider.getBlock("latest");
      if (!head) throw new Error("The node returned no latest block.");
      const dirtyModels = new Set<bigint>();
      const dirtyProviders = new Set<string>();
      const dirtyGames = new Set<bigint>();
      for (let ranges = 0; ranges < maxRangesPerPoll; ranges++) {
        const range = nextBlockRange(BigInt(index.cursor), BigInt(head.number), 0, maxBlockRange);
        if (!range) break;
        const logs = await provider.getLogs({
          address: [...sources.keys()],
          fromBlock: Number(range.fromBlock),
          toBlock: Number(range.toBlock),
        });
        const events: ExplorerEvent[] = [];
        for (const log of logs) {
          const source = sources.get(log.address.toLowerCase());
          if (source) events.push(...decodeLog(source.name, source.iface, log));
        }
        const times = await blockTimes(
          provider,
          events.filter((e) => TIMED.has(e.kind)).map((e) => e.block),
        );
        for (const event of events) {
          event.time = times.get(event.block);
          applyEvent(index, event);
          // A request names a model and a claim a provider the views may not hold yet; later
          // changes of either come with a registry event of their own.
          if (event.kind === "model" || (event.kind === "requested" && !models.has(event.modelId)))
            dirtyModels.add(event.modelId);
          if (event.kind === "provider" || (event.kind === "claimed" && !providers.has(event.provider)))
            dirtyProviders.add(event.provider);
          if (event.kind === "gameStarted" || event.kind === "gameMove" || event.kind === "gameResolved")
            dirtyGames.add(event.gameId);
        }
        index.cursor = Number(range.toBlock);
      }

      for (const id of dirtyModels) {
        const [m] = await call(contracts.modelRegistry, modelRegistry, "getModel", [id]);
        models.set(id, {
          mode: Number(m.mode),
          price: m.price as bigint,
          feeToken: m.feeToken as string,
          deprecated: m.deprecated as boolean,
        });
      }
      for (const address of dirtyProviders) {
        const to = contracts.providerRegistry;
        const [[stake], [reserved], [served, failed, slashes]] = await Promise.all([
          call(to, providerRegistry, "stakeOf", [address]),
          call(to, providerRegistry, "reservedOf", [address]),
          call(to, providerRegistry, "statsOf", [address]),
        ]);
        providers.set(address, { stake, reserved, served, failed, slashes });
      }
      if (gameAddress !== undefined && dirtyGames.size > 0) {
        gameClock ??= Number((await call(gameAddress, gameIface, "maxDuration"))[0]) / 2;
        for (const id of dirtyGames) {
          if (index.games.get(id)?.resolved) {
            games.delete(id);
            continue;
          }
          const [g] = await call(gameAddress, gameIface, "getGame", [id]);
          games.set(id, {
            phase: Number(g.phase),
            turn: Number(g.turn),
            lastMoveAt: Number(g.lastMoveAt),
            defenderUsed: Number(g.defenderUsed),
            challengerUsed: Number(g.challengerUsed),
            clock: gameClock,
          });
        }
      }

      // Gas of the newest requests' transactions: one receipt each, once.
      const missing = [...index.requests.values()]
        .filter((r) => r.gasUsed === undefined)
        .sort((a, b) => (a.id < b.id ? 1 : -1))
        .slice(0, receiptsPerPoll);
      await Promise.all(
        missing.map(async (r) => {
          const receipt = await provider.getTransactionReceipt(r.txHash);
          if (receipt) r.gasUsed = receipt.gasUsed;
        }),
      );

      // An agent's budget moves with plain transfers, which no registry event shows: read each poll.
      const agents: ChainViews["agents"] = new Map();
      await Promise.all(
        [...index.agents.values()].slice(0, 200).map(async (agent) => {
          if (agent.account) agents.set(agent.id, { budget: await provider.getBalance(agent.account) });
        }),
      );

      return {
        chainId: deployment.chainId,
        head: { number: head.number, time: head.timestamp },
        models,
        providers,
        games,
        agents,
      };
    },
  };
}

async function blockTimes(provider: JsonRpcProvider, blocks: number[]): Promise<Map<number, number>> {
  const times = new Map<number, number>();
  await Promise.all(
    [...new Set(blocks)].map(async (number) => {
      const block = await provider.getBlock(number);
      if (block) times.set(number, block.timestamp);
    }),
  );
  return times;
}
