import { expect } from "chai";
import { KNOWN_NETWORKS, resolveNetwork, type ResolveNetworkParameters } from "../../oracle/chain/networks.ts";
import { BaseError } from "../../oracle/errors.ts";

function refusal(parameters: ResolveNetworkParameters): BaseError {
  try {
    resolveNetwork(parameters);
  } catch (error) {
    expect(error).to.be.instanceOf(BaseError);
    return error as BaseError;
  }
  throw new Error("resolveNetwork accepted it");
}

describe("--network: which node and which deployment file a command uses", () => {
  const SECRET_URL = "https://sepolia.example/v3/0123456789abcdef-api-key";

  it("without a name: VERITY_RPC_URL (default the devnet's) and VERITY_DEPLOYMENT (default deployments/localhost.json)", () => {
    expect(resolveNetwork({ env: {} })).to.deep.equal({
      name: "localhost",
      rpcUrl: "http://127.0.0.1:8545",
      deploymentFile: "deployments/localhost.json",
    });
    const env = { VERITY_RPC_URL: "http://10.0.0.2:8545", VERITY_DEPLOYMENT: "my.json" };
    expect(resolveNetwork({ env })).to.include({ rpcUrl: "http://10.0.0.2:8545", deploymentFile: "my.json" });
    expect(resolveNetwork({ env, rpc: "ws://127.0.0.1:1", deployment: "x.json" })).to.include({
      rpcUrl: "ws://127.0.0.1:1",
      deploymentFile: "x.json",
    });
  });

  it("a known name: its own URL variable and chain id, deployments/<name>.json, whatever VERITY_* say", () => {
    const env = { SEPOLIA_RPC_URL: SECRET_URL, VERITY_RPC_URL: "http://127.0.0.1:8545", VERITY_DEPLOYMENT: "d.json" };
    expect(resolveNetwork({ network: "sepolia", env })).to.deep.equal({
      name: "sepolia",
      rpcUrl: SECRET_URL,
      chainId: 11155111,
      deploymentFile: "deployments/sepolia.json",
    });
    // VERITY_NETWORK is --network's default; flags still win.
    expect(resolveNetwork({ env: { ...env, VERITY_NETWORK: "sepolia" }, deployment: "other.json" })).to.include({
      name: "sepolia",
      deploymentFile: "other.json",
    });
    expect(resolveNetwork({ network: "baseSepolia", rpc: "http://127.0.0.1:9", env: {} })).to.include({
      rpcUrl: "http://127.0.0.1:9",
      chainId: KNOWN_NETWORKS.baseSepolia.chainId,
    });
  });

  it("a name of your own: VERITY_RPC_URL, the chain id from the node", () => {
    expect(
      resolveNetwork({ network: "mychain", env: { VERITY_RPC_URL: "https://rpc.mychain.example" } }),
    ).to.deep.equal({
      name: "mychain",
      rpcUrl: "https://rpc.mychain.example",
      deploymentFile: "deployments/mychain.json",
    });
  });

  it("names what is missing or malformed, and never prints the URL (it may hold an API key)", () => {
    const missing = refusal({ network: "holesky", env: { VERITY_RPC_URL: "http://127.0.0.1:8545" } });
    expect(missing.shortMessage).to.equal("The network holesky needs its JSON-RPC URL in HOLESKY_RPC_URL.");
    expect(refusal({ network: "mychain", env: {} }).shortMessage).to.equal(
      "The network mychain needs its JSON-RPC URL: set VERITY_RPC_URL or pass --rpc URL.",
    );
    expect(refusal({ network: "../etc", env: {} }).shortMessage).to.equal('--network "../etc" is not a network name.');
    const noScheme = refusal({
      network: "sepolia",
      env: { SEPOLIA_RPC_URL: "sepolia.example/v3/0123456789abcdef-api-key" },
    });
    expect(noScheme.shortMessage).to.equal("SEPOLIA_RPC_URL is not an http(s) or ws(s) URL.");
    expect(noScheme.message).not.to.include("0123456789abcdef");
    expect(refusal({ rpc: "localhost:8545", env: {} }).shortMessage).to.equal("--rpc is not an http(s) or ws(s) URL.");
  });
});
