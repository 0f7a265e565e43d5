import { expect } from "chai";
import { Interface, ZeroAddress, type JsonRpcProvider } from "ethers";
import { loadArtifact } from "../../oracle/chain/artifacts.ts";
import type { Deployment } from "../../oracle/chain/deployment.ts";
import { createChainReader } from "../../oracle/explorer/index-chain.ts";
import { emptyIndex } from "../../oracle/explorer/view-model.ts";

const deployment: Deployment = {
  chainId: 31337,
  startBlock: 10,
  contracts: {
    modelRegistry: "0x0000000000000000000000000000000000000001",
    providerRegistry: "0x0000000000000000000000000000000000000002",
    inferenceMarket: "0x0000000000000000000000000000000000000003",
  },
};

/** A node with no events and a head that the test moves; it notes every eth_getLogs range. */
function stubNode() {
  const market = new Interface(loadArtifact("InferenceMarket").abi as never[]);
  const node = { head: 10, ranges: [] as [number, number][] };
  const provider = {
    getBlock: async () => ({ number: node.head, timestamp: 1000 + node.head }),
    getLogs: async ({ fromBlock, toBlock }: { fromBlock: number; toBlock: number }) => {
      node.ranges.push([fromBlock, toBlock]);
      return [];
    },
    call: async () => market.encodeFunctionResult("disputeGame", [ZeroAddress]),
  } as unknown as JsonRpcProvider;
  return { node, provider };
}

describe("explorer chain reader", function () {
  it("reads the history in bounded ranges from the start block, then only the blocks since the last poll", async function () {
    const { node, provider } = stubNode();
    const reader = await createChainReader({ provider, deployment, maxBlockRange: 2000, maxRangesPerPoll: 2 });
    const index = emptyIndex(deployment.startBlock);
    node.head = 5000;
    await reader.poll(index);
    expect(node.ranges).to.deep.equal([
      [10, 2009],
      [2010, 4009],
    ]);
    const views = await reader.poll(index);
    expect(node.ranges.slice(2)).to.deep.equal([[4010, 5000]]);
    expect([index.cursor, views.head.number]).to.deep.equal([5000, 5000]);
    await reader.poll(index);
    expect(node.ranges, "nothing new: no eth_getLogs at all").to.have.length(3);
    node.head = 5003;
    await reader.poll(index);
    expect(node.ranges.slice(3)).to.deep.equal([[5001, 5003]]);
  });
});
