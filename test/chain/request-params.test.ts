import { expect } from "chai";
import { BrowserProvider } from "ethers";
import { network } from "hardhat";
import { findRequestParams } from "../../oracle/chain/request-params.ts";
import type { BaseError } from "../../oracle/errors.ts";
import { deployAll, ETH_PRICE, ZERO } from "../contracts/helpers.ts";
import { rejection } from "../util/rejection.ts";

const { ethers, networkHelpers, provider: eip1193 } = await network.create();

/**
 * A request's params are read back from its `InferenceRequested` event, searched backwards from
 * the latest block in ranges no larger than the node allows (public RPC nodes refuse log queries
 * over too many blocks): a recent request is found with one query, an older one with one query
 * per range between it and the head, and none spans more than `maxBlockRange` blocks.
 */
describe("findRequestParams: a request's params from its event, in bounded ranges", function () {
  async function fixture() {
    const env = await deployAll(ethers);
    const market = env.market;
    const deadline = async () => (await networkHelpers.time.latest()) + 3600;
    const ask = async (input: string) => {
      await market.connect(env.requester).requestInference(1, input, ETH_PRICE, await deadline(), ZERO, 0, {
        value: ETH_PRICE,
      });
      return market.requestCount();
    };
    return { env, market, ask };
  }

  /** Counts the log queries `market` makes and the widest range any of them spans. */
  function countQueries(market: Awaited<ReturnType<typeof fixture>>["market"]) {
    const seen = { queries: 0, widest: 0 };
    const original = market.queryFilter.bind(market);
    market.queryFilter = (async (...args: Parameters<typeof market.queryFilter>) => {
      seen.queries++;
      const [, from, to] = args;
      const last = to === "latest" ? await ethers.provider.getBlockNumber() : Number(to);
      seen.widest = Math.max(seen.widest, last - Number(from) + 1);
      return original(...args);
    }) as typeof market.queryFilter;
    return seen;
  }

  it("finds a recent request with one query and an older one range by range, each within maxBlockRange", async () => {
    const { env, market, ask } = await networkHelpers.loadFixture(fixture);
    const old = await ask("0x0102");
    await networkHelpers.mine(30);
    const recent = await ask("0x0304");
    const seen = countQueries(market);

    const params = await findRequestParams(market, recent, { maxBlockRange: 4 });
    expect(params.requester).to.equal(env.requester.address);
    expect(params.inputHash).to.equal(ethers.keccak256("0x0304"));
    expect(seen.queries).to.equal(1);

    seen.queries = 0;
    const older = await findRequestParams(market, old, { maxBlockRange: 4 });
    expect(older.inputHash).to.equal(ethers.keccak256("0x0102"));
    expect(older.fee).to.equal(ETH_PRICE);
    // 31 blocks from the head back to the old request's: 8 ranges of 4.
    expect(seen.queries).to.equal(8);
    expect(seen.widest).to.equal(4);
  });

  it("finds a request mined after the provider last read the block number (plain ethers caches it)", async () => {
    const { market, ask } = await networkHelpers.loadFixture(fixture);
    // Plain ethers over the chain, as the CLI and the SDK have: it answers the block number from a
    // cache for a moment, so the request below lands above the number it gives.
    const plain = new BrowserProvider(eip1193);
    const asCli = market.connect(plain);
    await plain.getBlockNumber();
    const id = await ask("0x0708");
    const params = await findRequestParams(asCli, id, { maxBlockRange: 4 });
    expect(params.inputHash).to.equal(ethers.keccak256("0x0708"));
  });

  it("names the request and where it searched when no event from fromBlock on matches", async () => {
    const { market, ask } = await networkHelpers.loadFixture(fixture);
    const id = await ask("0x0506");
    const head = await ethers.provider.getBlockNumber();
    await networkHelpers.mine(3);
    const late = (await rejection(findRequestParams(market, id, { fromBlock: head + 1 }))) as BaseError;
    expect(late.shortMessage).to.equal(`No InferenceRequested event matches request ${id}.`);
    expect(late.details).to.deep.equal([
      `Searched from block ${head + 1}; is the deployment's startBlock right, and does the RPC serve old logs?`,
    ]);
    const unknown = (await rejection(findRequestParams(market, 99n))) as BaseError;
    expect(unknown.details).to.deep.equal(["The market has no such request."]);
  });
});
