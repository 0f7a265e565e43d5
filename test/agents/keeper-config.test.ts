import { expect } from "chai";
import { ConfigError, parseConfig } from "../../oracle/config/load-config.ts";

const parse = (keeper: unknown) =>
  parseConfig({ text: JSON.stringify({ rpcUrl: "http://127.0.0.1:8545", keeper }), env: {}, cwd: "/", baseDir: "/" });

function problems(keeper: unknown): string[] {
  try {
    parse(keeper);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as ConfigError).details;
  }
  throw new Error("accepted");
}

describe("config: keeper", () => {
  it("defaults to off, with no agents and no margin over gas; pollIntervalMs falls back to chain.pollIntervalMs", () => {
    const config = parseConfig({ text: '{ "rpcUrl": "http://127.0.0.1:8545" }', env: {}, cwd: "/", baseDir: "/" });
    expect(config.keeper).to.deep.equal({ enabled: false, agents: [], minTipOverGas: "0" });
  });

  it("takes agent ids (numbers or digits) and account addresses, and a margin in wei", () => {
    const address = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
    const config = parse({ enabled: true, agents: [1, "2", address], minTipOverGas: 10 ** 12, pollIntervalMs: 250 });
    expect(config.keeper).to.deep.equal({
      enabled: true,
      agents: ["1", "2", address],
      minTipOverGas: "1000000000000",
      pollIntervalMs: 250,
    });
  });

  it("refuses bad entries, an unknown key with a suggestion, and an enabled keeper with no agent", () => {
    expect(problems({ enabled: true, agents: ["x"] })).to.deep.equal([
      `keeper.agents[0]: expected an agent id (digits) or the agent's account address (0x + 40 hex digits), got "x"`,
    ]);
    expect(problems({ enabeld: true })).to.deep.equal(['keeper.enabeld: unknown key (did you mean "keeper.enabled"?)']);
    expect(problems({ minTipOverGas: "0.1" })).to.deep.equal([
      'keeper.minTipOverGas: expected an amount of wei (digits), got "0.1"',
    ]);
    expect(problems({ enabled: true })).to.deep.equal([
      "keeper.agents: keeper.enabled is true but no agent is listed: give agent ids or account addresses",
    ]);
  });
});
