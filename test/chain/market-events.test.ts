import { expect } from "chai";
import { AbiCoder, keccak256, toUtf8Bytes, ZeroAddress, type Log, type TransactionReceipt } from "ethers";
import { marketLogsOf } from "../../oracle/chain/market-events.ts";
import { callbackOutcome } from "../../oracle/node/callback-outcome.ts";
import { InferenceMarket__factory } from "../../types/ethers-contracts/factories/InferenceMarket__factory.ts";

/**
 * Reading the market's events from a `fulfilBatch` receipt, as the daemon does once per item
 * served (issue 12, sustained load): the logs come from the market's real ABI, so the test
 * holds whatever ethers does with them.
 */
describe("market events of a batch receipt", function () {
  const market = InferenceMarket__factory.connect(ZeroAddress);
  const iface = market.interface;
  const provider = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
  const items = 32;
  const failed = 17n;

  /** The logs of one item served with a callback: submitted, fee credited, finalized, callback result. */
  const itemLogs = (id: bigint): Pick<Log, "topics" | "data">[] => [
    iface.encodeEventLog("ResultSubmitted", [id, provider, "0x0102"]),
    iface.encodeEventLog("Credited", [provider, ZeroAddress, 1000n]),
    iface.encodeEventLog("RequestFinalized", [id, 900n, 50n, 50n]),
    iface.encodeEventLog("CallbackResult", [id, id !== failed]),
  ];
  // A log of another contract whose topic is not one of the market's.
  const foreign = {
    topics: [keccak256(toUtf8Bytes("Transfer(address,address,uint256)"))],
    data: AbiCoder.defaultAbiCoder().encode(["uint256"], [1n]),
  };
  const receipt = {
    logs: [foreign, ...Array.from({ length: items }, (_, k) => itemLogs(BigInt(k + 1))).flat()],
  } as unknown as TransactionReceipt;

  it("reads every market event as ethers' parseLog does, and leaves other logs out", function () {
    const ours = marketLogsOf(market, receipt);
    const theirs = receipt.logs.slice(1).map((log) => iface.parseLog(log)!);
    expect(ours.map((e) => [e.name, e.topic, [...e.args]])).to.deep.equal(
      theirs.map((e) => [e.name, e.topic, [...e.args]]),
    );
  });

  it("reads one request's events only when asked for one", function () {
    const ofFailed = marketLogsOf(market, receipt, failed);
    expect(ofFailed.map((e) => e.name)).to.deep.equal(["ResultSubmitted", "RequestFinalized", "CallbackResult"]);
    expect(ofFailed.every((e) => e.args[0] === failed)).to.equal(true);
  });

  it("finds each item's callback outcome in the batch's receipt", function () {
    expect(callbackOutcome(market, receipt, failed)).to.deep.equal({ success: false });
    expect(callbackOutcome(market, receipt, 1n)).to.deep.equal({ success: true });
    expect(callbackOutcome(market, receipt, BigInt(items + 1))).to.equal(undefined);
  });

  // Under a sustained 60 requests/s the daemon read its batch's whole receipt once per item with
  // ethers' parseLog, which hashes every event signature of the ABI again for each log: about
  // 20 to 30 ms per item, 75 % of the daemon's CPU, and Finalized fell behind at 44/s. Counted,
  // not timed: an item's outcome decodes that item's logs only, and never through parseLog.
  it("batch receipt read per item: each outcome decodes only its own item's logs, never via parseLog", function () {
    const counts = { parseLog: 0, decodeEventLog: 0 };
    const original = { parseLog: iface.parseLog, decodeEventLog: iface.decodeEventLog };
    iface.parseLog = (...args) => (counts.parseLog++, original.parseLog.apply(iface, args));
    iface.decodeEventLog = (...args) => (counts.decodeEventLog++, original.decodeEventLog.apply(iface, args));
    try {
      for (let id = 1n; id <= BigInt(items); id++) callbackOutcome(market, receipt, id);
    } finally {
      Object.assign(iface, original);
    }
    expect(counts.parseLog).to.equal(0);
    // At most the three logs that name the item (Credited names no request) per outcome.
    expect(counts.decodeEventLog).to.be.at.most(3 * items);
  });
});
