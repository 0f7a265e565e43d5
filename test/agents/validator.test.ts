/**
 * ERC-8004 validation from Verity's own evidence: the ValidationRegistry (a port of the
 * reference ValidationRegistryUpgradeable) and the VerityValidator, which answers 100 "zk" for a
 * Finalized Zk result, 100 "optimistic" for an Optimistic result that survived its window, 0
 * "slashed" for a result a dispute game proved wrong, and refuses everything else by name. The
 * suite and its dispute game are deployed as `verity deploy` does; a plain account stands in
 * for the agent's account (MockAgentIdentity records it as the agent's `accountOf`).
 */
import { expect } from "chai";
import { network } from "hardhat";
import { AbiCoder, BrowserProvider, keccak256, hexlify, toUtf8Bytes } from "ethers";
import type * as Contracts from "../../types/ethers-contracts/index.ts";
import { sendAgentTransaction } from "../../oracle/agents/send-agent-transaction.ts";
import { validateAgentRequest, validatorHints } from "../../oracle/agents/validate-agent-request.ts";
import type { Deployment } from "../../oracle/chain/deployment.ts";
import { deployDisputeGame } from "../../oracle/chain/deploy-dispute-game.ts";
import { deploySuite } from "../../oracle/chain/deploy-suite.ts";
import { findRequestParams, type RequestParams } from "../../oracle/chain/request-params.ts";
import { ChainRevertError } from "../../oracle/chain/revert-error.ts";
import { GasLog } from "../../oracle/devnet/gas-log.ts";
import { challengeParams, openGame } from "../../oracle/devnet/open-game.ts";
import { playGame } from "../../oracle/devnet/play-game.ts";
import { registerOptimistic } from "../../oracle/devnet/register-optimistic.ts";
import { traceTrees } from "../../oracle/dispute/moves.ts";
import { encodeTensor } from "../../oracle/model/tensor-codec.ts";
import type { VqmModel } from "../../oracle/model/vqm/vqm-model.ts";
import { Dtype, inlineInput, int8Tensor, Side, Status, traceBytes } from "../dispute/attack-helpers.ts";
import { rejection } from "../util/rejection.ts";

const { ethers, networkHelpers, provider: eip1193 } = await network.create();
const { time } = networkHelpers;

const MIN_STAKE = ethers.parseEther("1");
const SLASH = ethers.parseEther("0.5");
const BOND = ethers.parseEther("0.1");
const PRICE = ethers.parseEther("0.01");
const WINDOW = 3600;
const CLOCK = 1800;
const DAY = 86400;
const ZERO = ethers.ZeroAddress;
const Mode = { Attested: 0n, Zk: 1n, Optimistic: 2n } as const;

/** int8 [1, 4] → int8 [1, 4], the identity (a reshape): its one-layer trace is its output. */
const identity: VqmModel = {
  format: "vqm/1",
  name: "identity-4",
  input: { shape: [1, 4], scale: 1 },
  layers: [{ kind: "reshape", input: -1, shape: [1, 4] }],
  outputScale: 1,
};
const X = int8Tensor([1, 4], (i) => [127, 127, -19, 58][i]!);
const INPUT = inlineInput(X);
const OUTPUT = hexlify(encodeTensor(X));
const WRONG = int8Tensor([1, 4], (i) => [127, 127, -19, 59][i]!);

async function fixture() {
  const [admin, treasury, modelOwner, provider, agentOwner, account, otherOwner, otherAccount, watcher, anyone] =
    await ethers.getSigners();
  // As deployGameSuite (oracle/devnet), without the suite's own agent contracts: these tests
  // deploy the validation registry over a mock identity registry.
  const deployment = await deploySuite(admin!, {
    treasury: treasury!.address,
    minStake: MIN_STAKE,
    minChallengeWindowSec: 1,
    maxChallengeWindowSec: DAY,
    claimPenalty: 0n,
    agents: false,
  });
  const dispute = await deployDisputeGame(admin!, deployment, {
    bondFloor: BOND,
    bondGasPrice: 0n,
    slashAmount: SLASH,
    clockSec: CLOCK,
    treasury: treasury!.address,
  });
  const at = async <T>(name: string, address: string) => (await ethers.getContractAt(name, address)) as unknown as T;
  const suite = {
    models: await at<Contracts.ModelRegistry>("ModelRegistry", deployment.contracts.modelRegistry),
    providers: await at<Contracts.ProviderRegistry>("ProviderRegistry", deployment.contracts.providerRegistry),
    market: await at<Contracts.InferenceMarket>("InferenceMarket", deployment.contracts.inferenceMarket),
    game: await at<Contracts.DisputeGame>("DisputeGame", dispute.game),
  };
  const { models, providers, market } = suite;
  // Model 1: Optimistic identity; 2: the same tensors Attested; 3: the same tensors Zk (a stub verifier).
  const id4 = await registerOptimistic(models.connect(modelOwner!), { model: identity, price: PRICE, window: WINDOW });
  const stub = (await ethers.deployContract("ProofVerifierStub")) as unknown as Contracts.ProofVerifierStub;
  await stub.setAnswer(true);
  const plain = {
    modelHash: keccak256(toUtf8Bytes("plain")),
    contentId: "bafy-plain",
    feeToken: ZERO,
    price: PRICE,
    royaltyBps: 0,
    inputShape: [1, 4],
    outputShape: [1, 4],
    inputDtype: Dtype.int8,
    outputDtype: Dtype.int8,
    verifier: ZERO,
    weightsRoot: ethers.ZeroHash,
    layoutRoot: ethers.ZeroHash,
    layerCount: 0,
    challengeWindow: 0,
  };
  await models.connect(modelOwner!).register({ ...plain, mode: Mode.Attested });
  await models.connect(modelOwner!).register({ ...plain, mode: Mode.Zk, verifier: await stub.getAddress() });
  await providers.connect(provider!).stake({ value: 3n * MIN_STAKE });
  for (const m of [1, 2, 3]) await providers.connect(provider!).optIn(m);

  const agents = (await ethers.deployContract("MockAgentIdentity")) as unknown as Contracts.MockAgentIdentity;
  await agents.mint(agentOwner!.address, account!.address); // agent 1
  await agents.mint(otherOwner!.address, otherAccount!.address); // agent 2
  const registry = (await ethers.deployContract("ValidationRegistry", [
    await agents.getAddress(),
  ])) as unknown as Contracts.ValidationRegistry;
  const validator = (await ethers.deployContract("VerityValidator", [
    await market.getAddress(),
    await registry.getAddress(),
  ])) as unknown as Contracts.VerityValidator;
  return {
    ...suite,
    id4,
    stub,
    agents,
    registry,
    validator,
    provider: provider!,
    agentOwner: agentOwner!,
    account: account!,
    otherOwner: otherOwner!,
    otherAccount: otherAccount!,
    watcher: watcher!,
    anyone: anyone!,
  };
}
type Fx = Awaited<ReturnType<typeof fixture>>;

const gas = new GasLog();

/** The agent's account (or `from`) requests model `modelId` on X; returns the market request id. */
async function request(fx: Fx, modelId: bigint | number, from = fx.account): Promise<bigint> {
  const deadline = (await time.latest()) + DAY;
  await fx.market.connect(from).requestInference(modelId, INPUT, PRICE, deadline, ZERO, 0, { value: PRICE });
  return await fx.market.requestCount();
}

/** Market request `id`'s parameters (from its event, checked against the market's commitment). */
function paramsOf(fx: Fx, id: bigint | number): Promise<RequestParams> {
  return findRequestParams(fx.market, BigInt(id));
}

/** What the validator's requestHash must be, computed off-chain. */
async function hashOf(fx: Fx, id: bigint): Promise<string> {
  const { chainId } = await ethers.provider.getNetwork();
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(["uint256", "address", "uint256"], [chainId, await fx.market.getAddress(), id]),
  );
}

/** The agent's owner asks the validator about market request `id` (agent 1 unless told). */
async function ask(fx: Fx, id: bigint, agentId = 1n, owner = fx.agentOwner) {
  const requestHash = await hashOf(fx, id);
  const uri = `eip155:31337:${await fx.market.getAddress()}#${id}`;
  const tx = fx.registry.connect(owner).validationRequest(await fx.validator.getAddress(), agentId, uri, requestHash);
  await gas.record("validationRequest", tx, "other");
  return requestHash;
}

/** A Zk request of the agent, Finalized by its (stub-verified) proof. */
async function finalizedZk(fx: Fx, from = fx.account) {
  const id = await request(fx, 3, from);
  await fx.market.connect(fx.provider).claim(id);
  await fx.market.connect(fx.provider).submitWithProof(id, await paramsOf(fx, id), INPUT, OUTPUT, "0x");
  return id;
}

describe("VerityValidator: ERC-8004 answers from Verity's evidence", () => {
  it('answers 100 "zk" for a Zk result Finalized by its proof, with the output\'s hash', async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const id = await finalizedZk(fx);
    const requestHash = await ask(fx, id);
    expect(await fx.validator.requestHashOf(id)).to.equal(requestHash);
    expect([...(await fx.validator.answerOf(id))]).to.deep.equal([100n, keccak256(OUTPUT), "zk"]);

    const tx = fx.validator.connect(fx.anyone).respond(id, await paramsOf(fx, id));
    await expect(tx)
      .to.emit(fx.registry, "ValidationResponse")
      .withArgs(await fx.validator.getAddress(), 1n, requestHash, 100, "", keccak256(OUTPUT), "zk");
    await gas.record("respond (zk)", tx, "other");
    const status = await fx.registry.getValidationStatus(requestHash);
    expect(status.validatorAddress).to.equal(await fx.validator.getAddress());
    expect(status.agentId).to.equal(1n);
    expect(status.response).to.equal(100n);
    expect(status.tag).to.equal("zk");
    expect([...(await fx.registry.getSummary(1, [await fx.validator.getAddress()], "zk"))]).to.deep.equal([1n, 100n]);
    // The evidence is final: answering again records the same answer.
    await expect(fx.validator.respond(id, await paramsOf(fx, id)))
      .to.emit(fx.registry, "ValidationResponse")
      .withArgs(await fx.validator.getAddress(), 1n, requestHash, 100, "", keccak256(OUTPUT), "zk");
  });

  it('answers 100 "optimistic" only once the Optimistic result survived its window', async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const id = await request(fx, fx.id4.modelId);
    const requestHash = await ask(fx, id);
    await expect(fx.validator.respond(id, await paramsOf(fx, id)))
      .to.be.revertedWithCustomError(fx.validator, "ValidatorNotDecidable")
      .withArgs(id, Status.Pending);
    await fx.market.connect(fx.provider).claim(id);
    await fx.market.connect(fx.provider).submitOptimistic(id, OUTPUT, traceTrees([X]).roots);
    // Submitted: provisional, whatever the agent did with it.
    await expect(fx.validator.respond(id, await paramsOf(fx, id)))
      .to.be.revertedWithCustomError(fx.validator, "ValidatorNotDecidable")
      .withArgs(id, Status.Submitted);
    await time.increase(WINDOW);
    await fx.market.finalize(id, await paramsOf(fx, id));
    const tx = fx.validator.connect(fx.anyone).respond(id, await paramsOf(fx, id));
    await expect(tx)
      .to.emit(fx.registry, "ValidationResponse")
      .withArgs(await fx.validator.getAddress(), 1n, requestHash, 100, "", keccak256(OUTPUT), "optimistic");
    await gas.record("respond (optimistic)", tx, "other");
  });

  it('answers 0 "slashed" for a result a dispute game proved wrong, and not while the game runs', async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const id = await request(fx, fx.id4.modelId);
    await fx.market.connect(fx.provider).claim(id);
    const cheat = traceTrees([WRONG]);
    await fx.market.connect(fx.provider).submitOptimistic(id, hexlify(encodeTensor(WRONG)), cheat.roots);
    const requestHash = await ask(fx, id);
    const truth = traceTrees([X]);
    const params = challengeParams(fx.id4, await paramsOf(fx, id), INPUT, cheat.roots, truth.roots);
    const gameId = await openGame(fx.game, { challenger: fx.watcher, requestId: id, params, bond: BOND, gas });
    await expect(fx.validator.respond(id, await paramsOf(fx, id)))
      .to.be.revertedWithCustomError(fx.validator, "ValidatorNotDecidable")
      .withArgs(id, Status.Challenged);
    // The provider does not defend its result: its clock runs out and the game is lost.
    const { view } = await playGame(fx.game, {
      gameId,
      model: fx.id4,
      input: traceBytes([X])[0]!,
      trace: [],
      defender: { signer: fx.provider, trees: cheat, pace: { stopAfter: 0 } },
      challenger: { signer: fx.watcher, trees: truth },
      step: "whole",
      increaseTime: (s) => time.increase(s),
      gas,
    });
    expect(view.winner).to.equal(Side.Challenger);
    expect(await fx.market.statusOf(id)).to.equal(Status.Refunded);
    expect(await fx.market.faultProven(id)).to.equal(true);

    const tx = fx.validator.connect(fx.anyone).respond(id, await paramsOf(fx, id));
    await expect(tx)
      .to.emit(fx.registry, "ValidationResponse")
      .withArgs(await fx.validator.getAddress(), 1n, requestHash, 0, "", ethers.ZeroHash, "slashed");
    await gas.record("respond (slashed)", tx, "other");
    expect((await fx.registry.getValidationStatus(requestHash)).tag).to.equal("slashed");
  });

  it("refuses results without evidence: Attested, Failed, Refunded without a proven fault, unknown", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    // Attested: Finalized on the provider's word.
    const attested = await request(fx, 2);
    await fx.market.connect(fx.provider).claim(attested);
    await fx.market.connect(fx.provider).submit(attested, await paramsOf(fx, attested), OUTPUT);
    await ask(fx, attested);
    await expect(fx.validator.respond(attested, await paramsOf(fx, attested)))
      .to.be.revertedWithCustomError(fx.validator, "ValidatorNoEvidence")
      .withArgs(attested, Status.Finalized, Mode.Attested);
    // Failed: the provider reported the input invalid.
    const failed = await request(fx, 3);
    await fx.market.connect(fx.provider).claim(failed);
    await fx.market.connect(fx.provider).reportInvalidInput(failed, await paramsOf(fx, failed), 3);
    await ask(fx, failed);
    await expect(fx.validator.respond(failed, await paramsOf(fx, failed)))
      .to.be.revertedWithCustomError(fx.validator, "ValidatorNoEvidence")
      .withArgs(failed, Status.Failed, Mode.Zk);
    // Refunded after its deadline: nobody proved anything.
    const expired = await request(fx, fx.id4.modelId);
    await ask(fx, expired);
    await time.increase(DAY + 1);
    await fx.market.expire(expired, await paramsOf(fx, expired));
    await expect(fx.validator.respond(expired, await paramsOf(fx, expired)))
      .to.be.revertedWithCustomError(fx.validator, "ValidatorNoEvidence")
      .withArgs(expired, Status.Refunded, Mode.Optimistic);
    // A request that does not exist (yet).
    await expect(fx.validator.answerOf(99))
      .to.be.revertedWithCustomError(fx.validator, "ValidatorNotDecidable")
      .withArgs(99, Status.None);
  });

  it("answers only what it was asked, about the agent's own request", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const id = await finalizedZk(fx);
    // Nobody asked: the registry's own error.
    await expect(fx.validator.respond(id, await paramsOf(fx, id)))
      .to.be.revertedWithCustomError(fx.registry, "ValidationUnknownRequest")
      .withArgs(await hashOf(fx, id));
    // Asked another validator under the same hash.
    const requestHash = await hashOf(fx, id);
    await fx.registry.connect(fx.agentOwner).validationRequest(fx.watcher.address, 1, "", requestHash);
    await expect(fx.validator.respond(id, await paramsOf(fx, id)))
      .to.be.revertedWithCustomError(fx.validator, "ValidatorNotAsked")
      .withArgs(requestHash, fx.watcher.address);

    // Agent 2's owner asks about agent 1's request: refused, the requester is not agent 2's account.
    const other = await finalizedZk(fx);
    await ask(fx, other, 2n, fx.otherOwner);
    await expect(fx.validator.respond(other, await paramsOf(fx, other)))
      .to.be.revertedWithCustomError(fx.validator, "ValidatorNotAgentsRequest")
      .withArgs(other, fx.account.address, fx.otherAccount.address);
    // ...while its own request is answered.
    const own = await finalizedZk(fx, fx.otherAccount);
    await ask(fx, own, 2n, fx.otherOwner);
    await expect(fx.validator.respond(own, await paramsOf(fx, own))).to.emit(fx.registry, "ValidationResponse");
    expect(await fx.validator.market()).to.equal(await fx.market.getAddress());
    expect(await fx.validator.validationRegistry()).to.equal(await fx.registry.getAddress());
    expect(await fx.validator.agentRegistry()).to.equal(await fx.agents.getAddress());
  });

  it("forged requester: an agent cannot collect a score for another's inference with params that are not the request's", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    // Agent 1's Finalized Zk request; agent 2's owner asks about it and claims it as agent 2's.
    const victim = await finalizedZk(fx);
    const requestHash = await ask(fx, victim, 2n, fx.otherOwner);
    const honest = await paramsOf(fx, victim);
    const forged = { ...honest, requester: fx.otherAccount.address };
    await expect(fx.validator.respond(victim, forged))
      .to.be.revertedWithCustomError(fx.validator, "ValidatorParamsMismatch")
      .withArgs(victim);
    // The params of agent 2's own request (its requester is agent 2's account) do not pass either.
    const own = await finalizedZk(fx, fx.otherAccount);
    await expect(fx.validator.respond(victim, await paramsOf(fx, own)))
      .to.be.revertedWithCustomError(fx.validator, "ValidatorParamsMismatch")
      .withArgs(victim);
    // Every field is bound by the commitment, not only the requester.
    const changed: Partial<RequestParams>[] = [
      { feeToken: fx.otherAccount.address },
      { fee: honest.fee + 1n },
      { callback: fx.otherAccount.address },
      { callbackGasLimit: honest.callbackGasLimit + 1n },
      { inputHash: keccak256(OUTPUT) },
    ];
    for (const change of changed)
      await expect(fx.validator.respond(victim, { ...honest, ...change }))
        .to.be.revertedWithCustomError(fx.validator, "ValidatorParamsMismatch")
        .withArgs(victim);
    // With the request's own params the requester is agent 1's account: refused by name, no answer recorded.
    await expect(fx.validator.respond(victim, honest))
      .to.be.revertedWithCustomError(fx.validator, "ValidatorNotAgentsRequest")
      .withArgs(victim, fx.account.address, fx.otherAccount.address);
    const status = await fx.registry.getValidationStatus(requestHash);
    expect([status.agentId, status.response, status.tag]).to.deep.equal([2n, 0n, ""]);
  });

  it("validateAgentRequest (verity agent validate) finds the request's params in its event and decodes refusals", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const deployment: Deployment = {
      chainId: 31337,
      startBlock: 0,
      contracts: {
        modelRegistry: await fx.models.getAddress(),
        providerRegistry: await fx.providers.getAddress(),
        inferenceMarket: await fx.market.getAddress(),
        validationRegistry: await fx.registry.getAddress(),
        verityValidator: await fx.validator.getAddress(),
      },
    };
    // Plain ethers over the chain, as the CLI has: its reverts are ethers' CALL_EXCEPTIONs.
    const plain = new BrowserProvider(eip1193);
    const [agentOwner, otherOwner] = await Promise.all([
      plain.getSigner(fx.agentOwner.address),
      plain.getSigner(fx.otherOwner.address),
    ]);
    const id = await finalizedZk(fx);
    const answer = await validateAgentRequest(deployment, agentOwner, { agentId: 1n, requestId: id });
    expect([answer.response, answer.tag, answer.responseHash]).to.deep.equal([100, "zk", keccak256(OUTPUT)]);
    expect(answer.requested).to.not.equal(undefined);
    expect(answer.responded?.status).to.equal(1);

    // Agent 2 about agent 1's request: the validator's refusal, named, with what to do.
    const other = await finalizedZk(fx);
    const refused = await rejection(validateAgentRequest(deployment, otherOwner, { agentId: 2n, requestId: other }));
    expect(refused).to.be.instanceOf(ChainRevertError);
    expect((refused as ChainRevertError).errorName).to.equal("ValidatorNotAgentsRequest");
    expect((refused as ChainRevertError).details).to.include(validatorHints.ValidatorNotAgentsRequest);
    // Forged params (only a reorg between reading and sending makes the module send them) decode as clearly.
    const forged = { ...(await paramsOf(fx, other)), requester: fx.otherAccount.address };
    const mismatch = await rejection(
      sendAgentTransaction("respond", fx.validator.connect(otherOwner).respond(other, forged), validatorHints),
    );
    expect((mismatch as ChainRevertError).errorName).to.equal("ValidatorParamsMismatch");
    expect((mismatch as ChainRevertError).details).to.include(validatorHints.ValidatorParamsMismatch);
  });

  it("refuses a zero market or validation registry", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const factory = await ethers.getContractFactory("VerityValidator");
    await expect(factory.deploy(ZERO, await fx.registry.getAddress())).to.be.revertedWithCustomError(
      fx.validator,
      "ValidatorZeroAddress",
    );
    await expect(factory.deploy(await fx.market.getAddress(), ZERO)).to.be.revertedWithCustomError(
      fx.validator,
      "ValidatorZeroAddress",
    );
  });

  after(() => {
    const rows = [...gas.max.entries()].filter(([name]) => name.startsWith("respond") || name.startsWith("validation"));
    console.log("      gas (largest):", Object.fromEntries(rows.map(([name, used]) => [name, Number(used)])));
  });
});

describe("ValidationRegistry: ERC-8004's validation registry", () => {
  const HASH = keccak256(toUtf8Bytes("some work"));

  it("lets the agent's owner, an approved address and an operator ask; nobody else", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const v = fx.watcher.address;
    expect(await fx.registry.getIdentityRegistry()).to.equal(await fx.agents.getAddress());
    await expect(fx.registry.connect(fx.anyone).validationRequest(v, 1, "uri", HASH))
      .to.be.revertedWithCustomError(fx.registry, "ValidationNotAuthorized")
      .withArgs(1, fx.anyone.address);
    await expect(fx.registry.connect(fx.agentOwner).validationRequest(v, 1, "uri", HASH))
      .to.emit(fx.registry, "ValidationRequest")
      .withArgs(v, 1, "uri", HASH);
    const h2 = keccak256(toUtf8Bytes("2"));
    const h3 = keccak256(toUtf8Bytes("3"));
    await fx.agents.connect(fx.agentOwner).approve(fx.anyone.address, 1);
    await fx.registry.connect(fx.anyone).validationRequest(v, 1, "", h2);
    await fx.agents.connect(fx.agentOwner).setApprovalForAll(fx.account.address, true);
    await fx.registry.connect(fx.account).validationRequest(fx.anyone.address, 1, "", h3);
    expect([...(await fx.registry.getAgentValidations(1))]).to.deep.equal([HASH, h2, h3]);
    expect([...(await fx.registry.getValidatorRequests(v))]).to.deep.equal([HASH, h2]);
    // Unanswered: response 0, no tag, the request's time.
    const status = await fx.registry.getValidationStatus(HASH);
    expect([status.validatorAddress, status.agentId, status.response, status.tag]).to.deep.equal([v, 1n, 0n, ""]);
    expect(status.lastUpdate).to.be.above(0n);
  });

  it("refuses a zero validator, a hash asked twice, an unknown agent and a zero identity registry", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    await expect(fx.registry.connect(fx.agentOwner).validationRequest(ZERO, 1, "", HASH)).to.be.revertedWithCustomError(
      fx.registry,
      "ValidationZeroValidator",
    );
    await fx.registry.connect(fx.agentOwner).validationRequest(fx.watcher.address, 1, "", HASH);
    // Another agent's owner cannot take over the hash either.
    await expect(fx.registry.connect(fx.otherOwner).validationRequest(fx.anyone.address, 2, "", HASH))
      .to.be.revertedWithCustomError(fx.registry, "ValidationRequestExists")
      .withArgs(HASH);
    await expect(fx.registry.connect(fx.agentOwner).validationRequest(fx.watcher.address, 7, "", HASH))
      .to.be.revertedWithCustomError(fx.registry, "ValidationRequestExists")
      .withArgs(HASH);
    await expect(fx.registry.connect(fx.agentOwner).validationRequest(fx.watcher.address, 7, "", ethers.ZeroHash))
      .to.be.revertedWithCustomError(fx.agents, "ERC721NonexistentToken")
      .withArgs(7);
    const factory = await ethers.getContractFactory("ValidationRegistry");
    await expect(factory.deploy(ZERO)).to.be.revertedWithCustomError(fx.registry, "ValidationZeroIdentityRegistry");
  });

  it("takes answers from the named validator only, 0 to 100, the last one standing; summarises by validator and tag", async () => {
    const fx = await networkHelpers.loadFixture(fixture);
    const [v1, v2] = [fx.watcher, fx.anyone];
    const h2 = keccak256(toUtf8Bytes("2"));
    const h3 = keccak256(toUtf8Bytes("3"));
    await fx.registry.connect(fx.agentOwner).validationRequest(v1.address, 1, "", HASH);
    await fx.registry.connect(fx.agentOwner).validationRequest(v2.address, 1, "", h2);
    await fx.registry.connect(fx.agentOwner).validationRequest(v2.address, 1, "", h3);
    await expect(fx.registry.connect(v2).validationResponse(HASH, 100, "", ethers.ZeroHash, ""))
      .to.be.revertedWithCustomError(fx.registry, "ValidationNotValidator")
      .withArgs(HASH, v2.address);
    await expect(fx.registry.connect(v1).validationResponse(HASH, 101, "", ethers.ZeroHash, ""))
      .to.be.revertedWithCustomError(fx.registry, "ValidationResponseTooHigh")
      .withArgs(101);
    const unknown = keccak256(toUtf8Bytes("never asked"));
    await expect(fx.registry.connect(v1).validationResponse(unknown, 1, "", ethers.ZeroHash, ""))
      .to.be.revertedWithCustomError(fx.registry, "ValidationUnknownRequest")
      .withArgs(unknown);
    await expect(fx.registry.getValidationStatus(ethers.ZeroHash))
      .to.be.revertedWithCustomError(fx.registry, "ValidationUnknownRequest")
      .withArgs(ethers.ZeroHash);

    const evidence = keccak256(toUtf8Bytes("evidence"));
    await expect(fx.registry.connect(v1).validationResponse(HASH, 40, "ipfs://soft", evidence, "soft"))
      .to.emit(fx.registry, "ValidationResponse")
      .withArgs(v1.address, 1, HASH, 40, "ipfs://soft", evidence, "soft");
    await fx.registry.connect(v1).validationResponse(HASH, 90, "ipfs://hard", evidence, "hard");
    const status = await fx.registry.getValidationStatus(HASH);
    expect([status.response, status.responseHash, status.tag]).to.deep.equal([90n, evidence, "hard"]);
    await fx.registry.connect(v2).validationResponse(h2, 51, "", ethers.ZeroHash, "hard");
    // h3 is unanswered: never counted.
    const summary = async (validators: string[], tag: string) =>
      [...(await fx.registry.getSummary(1, validators, tag))].map(Number);
    expect(await summary([], "")).to.deep.equal([2, 70]);
    expect(await summary([v2.address], "")).to.deep.equal([1, 51]);
    expect(await summary([v1.address, v2.address], "hard")).to.deep.equal([2, 70]);
    expect(await summary([], "soft")).to.deep.equal([0, 0]);
    expect([...(await fx.registry.getSummary(2, [], ""))].map(Number)).to.deep.equal([0, 0]);
    expect(await fx.registry.getVersion()).to.equal("2.0.0");
  });
});
