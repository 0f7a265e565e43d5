/**
 * The agent registry: ERC-8004 Identity Registry compatibility (register, URIs, metadata, the
 * reserved `agentWallet`, authorisation, events) and the account factory (deterministic clones
 * at a predictable address, one per agent, initialised once by the registry).
 */
import { expect } from "chai";
import { network } from "hardhat";
import { getAddress, toUtf8Bytes, hexlify } from "ethers";
import { ZERO } from "../contracts/helpers.ts";
import { basePolicy, createAgent, deployAgents, TIP, type AgentAccount } from "./agent-helpers.ts";

const { ethers, networkHelpers } = await network.create();

async function fixture() {
  return deployAgents(ethers);
}

describe("AgentRegistry", () => {
  it("createAgent: mints the identity, clones the account where predictAccount said, initialises it", async () => {
    const env = await networkHelpers.loadFixture(fixture);
    const { registry, owner, marketAddress, registryAddress } = env;
    expect([await registry.name(), await registry.symbol()]).to.deep.equal(["AgentIdentity", "AGENT"]);
    const predicted = await registry.predictAccount(1);
    expect(await registry.accountOf(1)).to.equal(ZERO);
    const create = registry.connect(owner).createAgent("ipfs://agent-1", basePolicy());
    await expect(create).to.emit(registry, "Registered").withArgs(1, "ipfs://agent-1", owner.address);
    await expect(create).to.emit(registry, "AccountCreated").withArgs(1, predicted);
    await expect(create)
      .to.emit(registry, "MetadataSet")
      .withArgs(1, "agentWallet", "agentWallet", predicted.toLowerCase());
    await expect(create).to.emit(registry, "Transfer").withArgs(ZERO, owner.address, 1);
    const account = (await ethers.getContractAt("AgentAccount", predicted)) as unknown as AgentAccount;
    await expect(create).to.emit(account, "Initialized").withArgs(registryAddress, 1, marketAddress);
    await expect(create).to.emit(account, "PolicyUpdated");

    expect(await registry.ownerOf(1)).to.equal(owner.address);
    expect(await registry.tokenURI(1)).to.equal("ipfs://agent-1");
    expect(await registry.accountOf(1)).to.equal(predicted);
    expect(await registry.getMetadata(1, "agentWallet")).to.equal(predicted.toLowerCase());
    expect(await account.identity()).to.deep.equal([registryAddress, 1n]);
    expect(await account.keeperTip()).to.equal(TIP);
    const policy = basePolicy();
    expect(await account.policy()).to.deep.equal(
      [
        policy.modelId,
        policy.modes,
        policy.maxFeePerRequest,
        policy.spendPerPeriod,
        policy.period,
        policy.maxKeeperTip,
        policy.interval,
        policy.requestTtl,
        policy.callbackGasLimit,
        policy.actionGasLimit,
        policy.inputKind,
        policy.inputTarget,
        policy.inputSelector,
        policy.decisionKind,
        policy.decisionIndex,
        policy.decisionThreshold,
        policy.minTaskFee,
        policy.maxProviderSlashes,
      ].map((v) => (typeof v === "number" ? BigInt(v) : v)),
    );
    expect(await registry.agentCount()).to.equal(1n);
    expect(await registry.accountImplementation()).to.equal(await env.implementation.getAddress());
    expect(await registry.market()).to.equal(marketAddress);
  });

  it("predictAccount is exact for ids not yet created, and differs per id", async () => {
    const env = await networkHelpers.loadFixture(fixture);
    const predicted = [await env.registry.predictAccount(1), await env.registry.predictAccount(2)];
    expect(predicted[0]).to.not.equal(predicted[1]);
    await env.registry.connect(env.stranger).register("ipfs://no-account");
    const { address } = await createAgent(ethers, env);
    expect(address).to.equal(predicted[1]);
  });

  it("register (ERC-8004) without an account; createAccount by the owner only, once (AgentRegistryAccountExists)", async () => {
    const env = await networkHelpers.loadFixture(fixture);
    const { registry, owner, stranger } = env;
    await expect(registry.connect(owner).register("ipfs://bare"))
      .to.emit(registry, "Registered")
      .withArgs(1, "ipfs://bare", owner.address);
    expect(await registry.getMetadata(1, "agentWallet")).to.equal("0x");
    await expect(registry.connect(stranger).createAccount(1, basePolicy()))
      .to.be.revertedWithCustomError(registry, "AgentRegistryNotOwner")
      .withArgs(1, stranger.address);
    await expect(registry.connect(owner).createAccount(2, basePolicy()))
      .to.be.revertedWithCustomError(registry, "AgentRegistryUnknownAgent")
      .withArgs(2);
    const predicted = await registry.predictAccount(1);
    await expect(registry.connect(owner).createAccount(1, basePolicy()))
      .to.emit(registry, "AccountCreated")
      .withArgs(1, predicted);
    expect(await registry.getMetadata(1, "agentWallet")).to.equal(predicted.toLowerCase());
    await expect(registry.connect(owner).createAccount(1, basePolicy()))
      .to.be.revertedWithCustomError(registry, "AgentRegistryAccountExists")
      .withArgs(1, predicted);
  });

  it("AgentPolicyInvalid: an agent is not created with a policy that could never work", async () => {
    const env = await networkHelpers.loadFixture(fixture);
    await expect(
      env.registry.connect(env.owner).createAgent("ipfs://x", basePolicy({ modes: 0 })),
    ).to.be.revertedWithCustomError(env.implementation, "AgentPolicyInvalid");
    expect(await env.registry.agentCount()).to.equal(0n);
  });

  it("AgentAlreadyInitialized: neither the clone nor the implementation can be initialised again", async () => {
    const env = await networkHelpers.loadFixture(fixture);
    const { account, agentId } = await createAgent(ethers, env);
    for (const target of [account, env.implementation.connect(env.owner)])
      await expect(
        target.initialize(env.registryAddress, agentId, env.marketAddress, basePolicy()),
      ).to.be.revertedWithCustomError(account, "AgentAlreadyInitialized");
    // Not even by the registry's address itself.
    await networkHelpers.impersonateAccount(env.registryAddress);
    await networkHelpers.setBalance(env.registryAddress, 10n ** 18n);
    const asRegistry = await ethers.getSigner(env.registryAddress);
    await expect(
      account.connect(asRegistry).initialize(env.registryAddress, agentId, env.marketAddress, basePolicy()),
    ).to.be.revertedWithCustomError(account, "AgentAlreadyInitialized");
    await networkHelpers.stopImpersonatingAccount(env.registryAddress);
  });

  it("setAgentURI (ERC-8004): the owner or an approved address; URIUpdated", async () => {
    const env = await networkHelpers.loadFixture(fixture);
    const { registry, owner, operator, stranger } = env;
    const { agentId } = await createAgent(ethers, env);
    await expect(registry.connect(stranger).setAgentURI(agentId, "ipfs://evil"))
      .to.be.revertedWithCustomError(registry, "AgentRegistryNotOwner")
      .withArgs(agentId, stranger.address);
    await expect(registry.connect(owner).setAgentURI(9, "ipfs://x"))
      .to.be.revertedWithCustomError(registry, "AgentRegistryUnknownAgent")
      .withArgs(9);
    await registry.connect(owner).approve(operator.address, agentId);
    await expect(registry.connect(operator).setAgentURI(agentId, "ipfs://v2"))
      .to.emit(registry, "URIUpdated")
      .withArgs(agentId, "ipfs://v2", operator.address);
    expect(await registry.tokenURI(agentId)).to.equal("ipfs://v2");
    expect(await registry.isAuthorizedOrOwner(operator.address, agentId)).to.equal(true);
    expect(await registry.isAuthorizedOrOwner(stranger.address, agentId)).to.equal(false);
    await expect(registry.isAuthorizedOrOwner(owner.address, 9)).to.be.revertedWithCustomError(
      registry,
      "ERC721NonexistentToken",
    );
  });

  it("setMetadata / getMetadata (ERC-8004); agentWallet is reserved (AgentRegistryReservedKey)", async () => {
    const env = await networkHelpers.loadFixture(fixture);
    const { registry, owner, stranger } = env;
    const { agentId, address } = await createAgent(ethers, env);
    const value = hexlify(toUtf8Bytes("moderation"));
    await expect(registry.connect(owner).setMetadata(agentId, "role", value))
      .to.emit(registry, "MetadataSet")
      .withArgs(agentId, "role", "role", value);
    expect(await registry.getMetadata(agentId, "role")).to.equal(value);
    await expect(registry.connect(stranger).setMetadata(agentId, "role", "0x"))
      .to.be.revertedWithCustomError(registry, "AgentRegistryNotOwner")
      .withArgs(agentId, stranger.address);
    await expect(registry.connect(owner).setMetadata(agentId, "agentWallet", stranger.address))
      .to.be.revertedWithCustomError(registry, "AgentRegistryReservedKey")
      .withArgs("agentWallet");
    expect(getAddress(await registry.getMetadata(agentId, "agentWallet"))).to.equal(address);
  });

  it("operators: set by the owner only (OperatorSet); they lapse when the agent changes hands; the account stays", async () => {
    const env = await networkHelpers.loadFixture(fixture);
    const { registry, owner, operator, stranger } = env;
    const { agentId, address } = await createAgent(ethers, env);
    await expect(registry.connect(stranger).setOperator(agentId, stranger.address, true))
      .to.be.revertedWithCustomError(registry, "AgentRegistryNotOwner")
      .withArgs(agentId, stranger.address);
    await expect(registry.connect(owner).setOperator(9, operator.address, true))
      .to.be.revertedWithCustomError(registry, "AgentRegistryUnknownAgent")
      .withArgs(9);
    await expect(registry.connect(owner).setOperator(agentId, operator.address, true))
      .to.emit(registry, "OperatorSet")
      .withArgs(agentId, operator.address, true);
    expect(await registry.isOperator(agentId, operator.address)).to.equal(true);
    expect(await registry.isOperator(9, operator.address)).to.equal(false);
    await registry.connect(owner).transferFrom(owner.address, stranger.address, agentId);
    expect(await registry.isOperator(agentId, operator.address)).to.equal(false);
    expect(await registry.accountOf(agentId)).to.equal(address);
    // Back to the first owner: its operators are still its own choice.
    await registry.connect(stranger).transferFrom(stranger.address, owner.address, agentId);
    expect(await registry.isOperator(agentId, operator.address)).to.equal(true);
    await registry.connect(owner).setOperator(agentId, operator.address, false);
    expect(await registry.isOperator(agentId, operator.address)).to.equal(false);
  });

  it("supports the ERC-721 and metadata interfaces", async () => {
    const env = await networkHelpers.loadFixture(fixture);
    for (const id of ["0x80ac58cd", "0x5b5e139f", "0x01ffc9a7", "0x49064906"])
      expect(await env.registry.supportsInterface(id)).to.equal(true);
  });
});
