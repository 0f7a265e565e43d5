import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import {
  DEPLOY_PROFILES,
  deployProfile,
  deployProfileNames,
  deployProfileProblem,
} from "../../oracle/chain/deploy-profiles.ts";
import { BaseError } from "../../oracle/errors.ts";
import { parametersFileText } from "../../scripts/deploy-parameters.ts";

describe("deploy profiles", () => {
  it("every profile keeps 2 × clock + max window within the unbonding delay (GameParametersUnsafe otherwise)", () => {
    for (const name of deployProfileNames) {
      const profile = DEPLOY_PROFILES[name];
      expect(deployProfileProblem(profile), name).to.equal(undefined);
      expect(2n * BigInt(profile.disputeClockSec) + BigInt(profile.maxChallengeWindowSec)).to.be.at.most(
        profile.unbondingDelaySec,
      );
    }
  });

  it("testnet gives an honest party days, not minutes: 3.5-day clocks, windows of at least a day", () => {
    const { testnet } = DEPLOY_PROFILES;
    expect(testnet.disputeClockSec).to.equal(3.5 * 86400);
    expect(testnet.minChallengeWindowSec).to.be.at.least(86400);
    expect(2n * BigInt(testnet.disputeClockSec) + BigInt(testnet.maxChallengeWindowSec)).to.be.at.most(
      testnet.unbondingDelaySec,
    );
  });

  it("names an unsafe profile's problem", () => {
    const unsafe = { ...DEPLOY_PROFILES.devnet, unbondingDelaySec: 3600n };
    expect(deployProfileProblem(unsafe)).to.include("exceeds unbondingDelaySec = 3600 s");
    expect(deployProfileProblem({ ...DEPLOY_PROFILES.devnet, defenderRewardBps: 0 })).to.include("defenderRewardBps");
  });

  it("parses a profile name: devnet by default, an unknown name is a one-line error naming the choices", () => {
    expect(deployProfile().name).to.equal("devnet");
    expect(deployProfile("testnet").slashAmount).to.equal(DEPLOY_PROFILES.testnet.slashAmount);
    let error: unknown;
    try {
      deployProfile("mainnet");
    } catch (caught) {
      error = caught;
    }
    expect(error).to.be.instanceOf(BaseError);
    expect((error as BaseError).shortMessage).to.equal('Unknown deploy profile "mainnet": use devnet or testnet.');
    expect((error as BaseError).details).to.deep.equal([]);
    expect(() => deployProfile("toString")).to.throw(BaseError);
  });

  it("deploy/parameters/<profile>.json is generated from the profile (run node scripts/deploy-parameters.ts)", () => {
    for (const name of deployProfileNames) {
      const file = path.resolve(import.meta.dirname, `../../deploy/parameters/${name}.json`);
      expect(readFileSync(file, "utf8"), `${file} differs from DEPLOY_PROFILES.${name}`).to.equal(
        parametersFileText(name),
      );
    }
  });
});
