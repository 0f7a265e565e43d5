/**
 * The agent policy file (oracle/agents/policy-file.ts): every field of IAgentAccount.Policy in
 * words, checked like the daemon's config: each problem one line naming its key, an unknown key
 * with the nearest known one.
 */
import { expect } from "chai";
import { id } from "ethers";
import { parsePolicyFile, parsePolicyObject, PolicyFileError } from "../../oracle/agents/policy-file.ts";
import { ArgKind, DecisionKind, InputKind, modeNamesOf } from "../../oracle/agents/policy.ts";
import { JsonSyntaxError } from "../../oracle/util/parse-json.ts";

const target = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const good = {
  model: 2,
  modes: ["zk", "optimistic"],
  maxFeePerRequest: "0.01",
  spendPerPeriod: "0.1",
  period: "1d",
  maxKeeperTip: "0.001",
  keeperTip: "500 wei",
  interval: "1h",
  input: { kind: "viewCall", target, selector: "featuresOf(uint256)" },
  decision: { kind: "threshold", index: 1, threshold: -5 },
  actions: { "1": { target, selector: "hide(uint256)", arg: "taskArg" }, "0": { target, selector: "0xAABBCCDD" } },
};

function problems(value: unknown): string[] {
  try {
    parsePolicyObject(value, "policy.json");
  } catch (error) {
    expect(error).to.be.instanceOf(PolicyFileError);
    expect((error as PolicyFileError).shortMessage).to.equal("policy.json is not a valid agent policy.");
    return (error as PolicyFileError).details;
  }
  throw new Error("accepted");
}

describe("agent policy file", () => {
  it("turns every field into IAgentAccount.Policy: modes as bits, amounts in wei, durations in seconds, selectors from signatures", () => {
    const { policy, actions, keeperTip } = parsePolicyObject(good, "policy.json");
    expect(policy).to.deep.equal({
      modelId: 2n,
      modes: 0b110,
      maxFeePerRequest: 10n ** 16n,
      spendPerPeriod: 10n ** 17n,
      period: 86_400,
      maxKeeperTip: 10n ** 15n,
      interval: 3600,
      requestTtl: 600,
      callbackGasLimit: 300_000,
      actionGasLimit: 100_000,
      inputKind: InputKind.ViewCall,
      inputTarget: target,
      inputSelector: id("featuresOf(uint256)").slice(0, 10),
      decisionKind: DecisionKind.Threshold,
      decisionIndex: 1,
      decisionThreshold: -5,
      minTaskFee: 0n,
      maxProviderSlashes: 0n,
    });
    expect(keeperTip).to.equal(500n);
    expect(actions).to.deep.equal([
      { decision: 0n, action: { target, selector: "0xaabbccdd", arg: ArgKind.None } },
      { decision: 1n, action: { target, selector: id("hide(uint256)").slice(0, 10), arg: ArgKind.TaskArg } },
    ]);
    expect(modeNamesOf(policy.modes)).to.deep.equal(["zk", "optimistic"]);
  });

  it("defaults: argmax, no tasks fee, 10-minute requests, 300k callback and 100k action gas, no actions, no schedule", () => {
    const { policy, actions, keeperTip } = parsePolicyObject(
      {
        model: "7",
        modes: ["attested"],
        maxFeePerRequest: "1000 wei",
        spendPerPeriod: "0",
        period: 60,
        input: { kind: "taskCalldata" },
      },
      "p",
    );
    expect(policy.decisionKind).to.equal(DecisionKind.Argmax);
    expect(policy.inputKind).to.equal(InputKind.TaskCalldata);
    expect([policy.interval, policy.requestTtl, policy.callbackGasLimit, policy.actionGasLimit]).to.deep.equal([
      0, 600, 300_000, 100_000,
    ]);
    expect([policy.maxFeePerRequest, policy.minTaskFee, policy.maxKeeperTip]).to.deep.equal([1000n, 0n, 0n]);
    expect(actions).to.deep.equal([]);
    expect(keeperTip).to.equal(undefined);
    expect(policy.maxProviderSlashes).to.equal(0n);
    expect(parsePolicyObject({ ...good, maxProviderSlashes: "any" }, "p").policy.maxProviderSlashes).to.equal(
      2n ** 64n - 1n,
    );
  });

  it("refuses an unknown key with the nearest known one, at the top, in input and in an action", () => {
    expect(problems({ ...good, mods: ["zk"] })).to.include('mods: unknown key (did you mean "modes"?)');
    expect(problems({ ...good, input: { kind: "viewCall", target, selctor: "a()" } })).to.deep.equal([
      "input.selector: Required",
      'input.selctor: unknown key (did you mean "selector"?)',
    ]);
    expect(problems({ ...good, actions: { "1": { targt: target, selector: "hide(uint256)" } } })).to.deep.equal([
      "actions.1.target: Required",
      'actions.1.targt: unknown key (did you mean "target"?)',
    ]);
    expect(problems({ ...good, colour: 1 })).to.deep.equal(["colour: unknown key"]);
  });

  it("names each bad value with what it expects", () => {
    expect(problems({ ...good, modes: [] })).to.deep.equal(["modes: expected at least one mode, got []"]);
    expect(problems({ ...good, modes: ["zkk"] })).to.deep.equal([
      'modes[0]: expected "attested" | "zk" | "optimistic", got "zkk"',
    ]);
    expect(problems({ ...good, maxFeePerRequest: "1e5" })[0]).to.match(
      /^maxFeePerRequest: expected an amount: .* got "1e5"$/,
    );
    expect(problems({ ...good, period: "3 weeks" })[0]).to.match(/^period: expected a duration: .* got "3 weeks"$/);
    expect(problems({ ...good, input: { kind: "viewcall" } })).to.deep.equal([
      'input.kind: expected "viewCall" | "taskCalldata" | "taskContentId", got "viewcall"',
    ]);
    expect(problems({ ...good, input: { kind: "viewCall", target: "0x12", selector: "hide" } })).to.deep.equal([
      'input.target: expected a 0x-prefixed 20-byte hex address, got "0x12"',
      'input.selector: expected a function signature such as "hide(uint256)", or a 4-byte selector "0x…", got "hide"',
    ]);
    expect(problems({ ...good, decision: { kind: "threshold", index: 1 } })).to.deep.equal([
      "decision.threshold: Required",
    ]);
    expect(problems({ ...good, actions: { x: { target, selector: "hide(uint256)" } } })).to.deep.equal([
      "actions.x: expected a decision (digits) as the key of an action",
    ]);
    expect(problems({ ...good, callbackGasLimit: 0 })).to.deep.equal(["callbackGasLimit: expected at least 1, got 0"]);
    expect(problems({ ...good, maxProviderSlashes: "some" })).to.deep.equal([
      'maxProviderSlashes: expected a number of slashes (0 or more) or "any", got "some"',
    ]);
    expect(problems({ model: 1 })).to.deep.equal([
      "modes: Required",
      "maxFeePerRequest: Required",
      "spendPerPeriod: Required",
      "period: Required",
      "input: Required",
    ]);
    expect(problems([])).to.deep.equal(["(the file): expected object, got []"]);
  });

  it("refuses a policy the account would refuse (AgentPolicyInvalid) or one that contradicts itself", () => {
    expect(problems({ ...good, period: 0 })).to.deep.equal(["period: expected a duration of at least 1 s"]);
    expect(problems({ ...good, actionGasLimit: 240_000 })).to.deep.equal([
      "callbackGasLimit: 300000 leaves an action of 240000 gas too little: at least 328809 (the action's limit, 1/63 of it, and 85000 for the decision)",
    ]);
    expect(problems({ ...good, requestTtl: "31d" })[0]).to.match(
      /^requestTtl: expected a duration from 1 s to 30 days/,
    );
    expect(problems({ ...good, callbackGasLimit: 2_000_001 })).to.deep.equal([
      "callbackGasLimit: expected at most 2000000, got 2000001",
    ]);
    expect(problems({ ...good, input: { kind: "taskCalldata" } })).to.deep.equal([
      "interval: an agent whose input is taskCalldata runs on tasks only: set interval to 0",
    ]);
    expect(problems({ ...good, interval: 0, input: { kind: "taskContentId" } })).to.deep.equal([
      'modes: an agent whose input is taskContentId accepts ["attested"] only (Zk and Optimistic models take inline inputs)',
    ]);
    expect(
      parsePolicyObject({ ...good, interval: 0, modes: ["attested"], input: { kind: "taskContentId" } }, "p.json")
        .policy,
    ).to.include({ inputKind: 2, modes: 1 });
    expect(problems({ ...good, keeperTip: "1" })).to.deep.equal([
      "keeperTip: 1000000000000000000 wei is above maxKeeperTip 1000000000000000 wei",
    ]);
  });

  it("a file that is not JSON names its line and column", () => {
    expect(() => parsePolicyFile('{ "model": 1,\n  modes: [] }', "The --policy file p.json")).to.throw(
      JsonSyntaxError,
      /^The --policy file p\.json is not valid JSON: line 2, column 3/,
    );
  });
});
