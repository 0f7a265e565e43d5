import { cpSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { readIgnitionDeployment } from "../../oracle/chain/ignition-deployment.ts";
import { BaseError } from "../../oracle/errors.ts";
import { tempDir } from "../node/helpers.ts";

// The journal of a real `npx hardhat ignition deploy deploy/modules/Verity.ts --network sepolia
// --parameters deploy/parameters/testnet.json` against a node with Sepolia's chain id, with the
// bulky lines (creation data, sends, logs) left out.
const fixture = path.resolve(import.meta.dirname, "fixtures/ignition-chain-11155111");

describe("verity deploy --from-ignition: the deployments file from an Ignition run", () => {
  it("reads the chain, the first block, the addresses and what verification needs", () => {
    const deployment = readIgnitionDeployment(fixture);
    const addresses = JSON.parse(readFileSync(path.join(fixture, "deployed_addresses.json"), "utf8")) as Record<
      string,
      string
    >;
    expect(deployment.chainId).to.equal(11155111);
    expect(deployment.startBlock).to.equal(9);
    expect(deployment.contracts).to.deep.equal({
      modelRegistry: addresses["Verity#ModelRegistry"],
      providerRegistry: addresses["Verity#ProviderRegistry"],
      inferenceMarket: addresses["Verity#InferenceMarket"],
    });
    expect(deployment.deployed!.map((contract) => [contract.contract, contract.address])).to.deep.equal([
      ["contracts/ModelRegistry.sol:ModelRegistry", addresses["Verity#ModelRegistry"]],
      ["contracts/ProviderRegistry.sol:ProviderRegistry", addresses["Verity#ProviderRegistry"]],
      ["contracts/InferenceMarket.sol:InferenceMarket", addresses["Verity#InferenceMarket"]],
      ["contracts/dispute/LayerStepProver.sol:LayerStepProver", addresses["Verity#LayerStepProver"]],
      ["contracts/dispute/DisputeGame.sol:DisputeGame", addresses["Verity#DisputeGame"]],
    ]);
    // The testnet profile's arguments, bigints decoded: what `hardhat verify` takes.
    expect(deployment.deployed![0]!.constructorArgs).to.deep.equal(["86400", "604800"]);
    expect(deployment.deployed![1]!.constructorArgs.slice(1)).to.deep.equal(["1000000000000000000", "2678400"]);
    expect(deployment.deployed![4]!.constructorArgs.slice(5)).to.deep.equal([
      "50000000000000000",
      "20000000000",
      "1000000000000000000",
      "302400",
      "5000",
      "5000",
    ]);
    for (const contract of deployment.deployed!) expect(contract.transactionHash).to.match(/^0x[0-9a-f]{64}$/);
  });

  it("refuses a run that stopped before the suite was wired, naming what is left", () => {
    const temp = tempDir("verity-ignition-");
    try {
      cpSync(fixture, temp.dir, { recursive: true });
      const journal = path.join(temp.dir, "journal.jsonl");
      const lines = readFileSync(journal, "utf8").split("\n");
      writeFileSync(
        journal,
        lines.filter((line) => !line.includes('"Verity#InferenceMarket.setDisputeGame"')).join("\n"),
      );
      let error: unknown;
      try {
        readIgnitionDeployment(temp.dir);
      } catch (caught) {
        error = caught;
      }
      expect(error).to.be.instanceOf(BaseError);
      expect((error as BaseError).shortMessage).to.equal(
        `The Ignition deployment in ${temp.dir} is not finished: Verity#InferenceMarket.setDisputeGame not done.`,
      );
    } finally {
      temp.remove();
    }
  });
});
