/**
 * `verity balance [--address ADDR]`: what an account can withdraw (its credits in the market,
 * ETH and ERC-20, and in the dispute game) and, for a provider, its stake: reserved by open jobs,
 * free, and unbonding with the time it can be withdrawn.
 */
import { ZeroAddress } from "ethers";
import type { JsonRpcProvider } from "ethers";
import { connectSuite, createRpcProvider, type Suite } from "../chain/connect.ts";
import { readDeployment, type Deployment } from "../chain/deployment.ts";
import { resolveNetwork } from "../chain/networks.ts";
import { BaseError } from "../errors.ts";
import { getBalances, type GetBalancesReturnType } from "../sdk/get-balances.ts";
import { chainContext, chainOptions, chainUsage, checkNode, type ChainFlags } from "./chain-context.ts";
import type { Command } from "./command.ts";
import { formatAmount } from "./money.ts";
import { parseAddress } from "./parse-options.ts";

export const balanceCommand: Command = {
  summary: [
    "Show what an account can withdraw and, for a provider, its stake.",
    "",
    "Credits in the market (refunds of expired and failed requests, claim penalties, provider fees,",
    "royalties; ETH and every ERC-20 the account was credited in, or --token), the dispute game's",
    "credit (bonds), and stake: reserved by open jobs, free, unbonding. `verity withdraw` pays them out.",
  ].join("\n"),
  usage: `[--address ADDR] [--token ADDR ...] ${chainUsage}   (without --address: the account of the key)`,
  options: { ...chainOptions, address: { type: "string" }, token: { type: "string", multiple: true } },
  maxPositionals: 0,
  async run(values) {
    const flags = values as ChainFlags;
    const address = values.address === undefined ? undefined : parseAddress("--address", values.address as string);
    const tokens = ((flags.token as string[] | undefined) ?? []).map((token) => parseAddress("--token", token));
    const { suite, provider, deployment, account } =
      address === undefined ? await signerChain(flags) : { ...(await readOnlyChain(flags)), account: address };
    try {
      const balances = await getBalances(suite, { account, tokens, fromBlock: deployment.startBlock });
      for (const line of describeBalances(balances)) console.log(line);
    } finally {
      provider.destroy();
    }
  },
};

/** The lines `verity balance` prints; `verity withdraw` prints them too when there is nothing to pay. */
export function describeBalances(balances: GetBalancesReturnType): string[] {
  const lines = [`account    ${balances.account}`];
  for (const credit of balances.market)
    if (credit.amount > 0n || credit.token === ZeroAddress)
      lines.push(
        `market     ${formatAmount(credit.amount, credit)}${credit.token === ZeroAddress ? "" : ` (token ${credit.token})`}`,
      );
  if (balances.disputeGame) lines.push(`game       ${formatAmount(balances.disputeGame.amount)} (dispute game bonds)`);
  const { stake } = balances;
  if (stake) {
    lines.push(
      `stake      ${formatAmount(stake.stake)}: ${formatAmount(stake.reserved)} reserved by open jobs, ${formatAmount(stake.free)} free`,
    );
    if (stake.unbonding > 0n)
      lines.push(
        `unbonding  ${formatAmount(stake.unbonding)}, ${stake.withdrawableNow ? "withdrawable now" : `withdrawable from ${new Date(Number(stake.releaseTime) * 1000).toISOString()}`}`,
      );
  }
  const now = withdrawableNow(balances);
  lines.push(
    now.length === 0
      ? "withdraw   nothing to withdraw now"
      : `withdraw   ${now.join(" + ")}: run \`npx verity withdraw\``,
  );
  return lines;
}

/** What `verity withdraw` would pay out now, one amount per token. */
export function withdrawableNow(balances: GetBalancesReturnType): string[] {
  const eth =
    (balances.market.find((credit) => credit.token === ZeroAddress)?.amount ?? 0n) +
    (balances.disputeGame?.amount ?? 0n) +
    (balances.stake?.withdrawableNow ? balances.stake.unbonding : 0n);
  return [
    ...(eth > 0n ? [formatAmount(eth)] : []),
    ...balances.market.filter((c) => c.token !== ZeroAddress && c.amount > 0n).map((c) => formatAmount(c.amount, c)),
  ];
}

type BalanceChain = { suite: Suite; provider: JsonRpcProvider; deployment: Deployment; account: string };

async function signerChain(values: ChainFlags): Promise<BalanceChain> {
  const { suite, provider, deployment, wallet } = await chainContext(values);
  return { suite, provider, deployment, account: wallet.address };
}

/** The suite without a key, for looking at any account: the network and deployment as every command takes them. */
async function readOnlyChain(values: ChainFlags): Promise<Omit<BalanceChain, "account">> {
  const network = resolveNetwork({
    network: values.network as string | undefined,
    rpc: values.rpc as string | undefined,
    deployment: values.deployment as string | undefined,
  });
  const deployment = readDeployment(network.deploymentFile);
  const provider = createRpcProvider(network.rpcUrl, 250);
  const chainId = await checkNode(provider, network);
  if (deployment.chainId !== chainId) {
    provider.destroy();
    throw new BaseError(
      `The deployment ${network.deploymentFile} is for chain ${deployment.chainId} but the node is chain ${chainId}.`,
    );
  }
  return { suite: connectSuite(deployment, provider), provider, deployment };
}
