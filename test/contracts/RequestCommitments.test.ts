import { expect } from "chai";
import { keccak256, type BigNumberish } from "ethers";
import { network } from "hardhat";
import { commitmentOf, type RequestParams } from "../../oracle/chain/request-params.ts";
import { deployGameSuite } from "../../oracle/devnet/deploy-game-suite.ts";
import { encodeLayerSpec, layerSpecs, layoutProof } from "../../oracle/dispute/layout.ts";
import { firstDifferingLayer, traceTrees } from "../../oracle/dispute/moves.ts";
import { encodeInlineInput } from "../../oracle/model/input-envelope.ts";
import type { Tensor } from "../../oracle/model/tensor.ts";
import { encodeTensor } from "../../oracle/model/tensor-codec.ts";
import { executeVqm } from "../../oracle/model/vqm/reference-executor.ts";
import { syntheticInput, syntheticMlp } from "../../oracle/model/vqm/synthetic-vqm.ts";
import type * as Contracts from "../../types/ethers-contracts/index.ts";
import { registerMlpModels } from "../dispute/mlp-models.ts";
import {
  deploy,
  deployAll,
  ETH_PRICE,
  HOUR,
  outputBytes,
  paramsOf,
  paramsOfAll,
  signers,
  Status,
  TOKEN_PRICE,
  ZERO,
} from "./helpers.ts";

/**
 * The market stores one commitment to a request's fixed fields (requester, fee token, fee,
 * callback, its gas limit, input hash) and every call that settles, refunds or disputes a
 * request takes them back. Each attack below forges one field, or brings another request's
 * parameters, to one of those calls: it must revert with MarketRequestParamsMismatch and move
 * nothing. The real parameters (read as off-chain code reads them, from the request's event)
 * then go through, so the refusal is the check's and not the call's.
 */
const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;

const INPUT = "0x0102030405";
const OUTPUT = outputBytes([1.5, -2, 0.25]);
const CALLBACK_GAS = 100_000n;

async function attestedFixture() {
  const env = await deployAll(ethers);
  // A consumer to call back: the requests below name it, so a forged callback has something to skip.
  const consumer = await deploy(ethers, "GasBurnerConsumer");
  return { ...env, consumer, consumerAddress: await consumer.getAddress() };
}
type Env = Awaited<ReturnType<typeof attestedFixture>>;

async function deadlineIn(seconds: bigint = HOUR): Promise<bigint> {
  return BigInt(await time.latest()) + seconds;
}

/** A request by `env.requester` for model 1 (ETH) or 2 (the token), calling the consumer back. */
async function request(env: Env, modelId: 1 | 2 = 1): Promise<bigint> {
  const id = (await env.market.requestCount()) + 1n;
  const fee = modelId === 1 ? ETH_PRICE : TOKEN_PRICE;
  await env.market
    .connect(env.requester)
    .requestInference(modelId, INPUT, fee, await deadlineIn(), env.consumerAddress, CALLBACK_GAS, {
      value: modelId === 1 ? fee : 0n,
    });
  return id;
}

/** One field of `p` changed, each as an attacker would: the forgeries every call must refuse. */
function forgeries(p: RequestParams, attacker: string, token: string): [string, RequestParams][] {
  return [
    ["a lower fee", { ...p, fee: p.fee - 1n }],
    ["a higher fee", { ...p, fee: p.fee + 1n }],
    ["another fee token", { ...p, feeToken: p.feeToken === ZERO ? token : ZERO }],
    ["another requester (to take the refund)", { ...p, requester: attacker }],
    ["a zero callback (to skip the consumer)", { ...p, callback: ZERO }],
    ["a lower callbackGasLimit (to starve the consumer)", { ...p, callbackGasLimit: p.callbackGasLimit - 1n }],
    ["another inputHash", { ...p, inputHash: keccak256("0xdead") }],
  ];
}

/** Everything a settling call could move: balances, escrow, credits, reservations, the request. */
async function snapshot(
  market: Contracts.InferenceMarket,
  providers: Contracts.ProviderRegistry,
  token: Contracts.TestToken | undefined,
  accounts: string[],
  ids: BigNumberish[],
) {
  const marketAddress = await market.getAddress();
  const tokens = token ? [ZERO, await token.getAddress()] : [ZERO];
  const state: unknown[] = [await ethers.provider.getBalance(marketAddress)];
  if (token) state.push(await token.balanceOf(marketAddress));
  for (const t of tokens) {
    state.push(await market.escrowed(t), await market.owed(t));
    for (const a of accounts) state.push(await market.balanceOf(a, t));
  }
  for (const a of accounts) state.push(await providers.reservedOf(a), await providers.stakeOf(a));
  for (const id of ids) state.push([...(await market.getRequest(id))]);
  return state;
}

/** Expects `call` with each forgery of request `id`'s params to revert with the mismatch and move nothing. */
async function expectEachForgeryRefused(
  env: {
    market: Contracts.InferenceMarket;
    providers: Contracts.ProviderRegistry;
    token?: Contracts.TestToken;
    accounts: string[];
  },
  id: bigint,
  attacker: string,
  token: string,
  call: (forged: RequestParams) => Promise<unknown>,
  ids: bigint[] = [id],
) {
  const before = await snapshot(env.market, env.providers, env.token, env.accounts, ids);
  for (const [name, forged] of forgeries(await paramsOf(env.market, id), attacker, token)) {
    await expect(call(forged), name)
      .to.be.revertedWithCustomError(env.market, "MarketRequestParamsMismatch")
      .withArgs(id);
  }
  expect(await snapshot(env.market, env.providers, env.token, env.accounts, ids)).to.deep.equal(before);
}

function accountsOf(env: Env): string[] {
  return [env.requester, env.provider, env.provider2, env.other, env.treasury, env.modelOwner].map((s) => s.address);
}

describe("request commitments: forged request parameters are refused (InferenceMarket)", () => {
  describe("Attested requests", () => {
    const refuse = (env: Env, id: bigint, call: (forged: RequestParams) => Promise<unknown>, ids?: bigint[]) =>
      expectEachForgeryRefused(
        { ...env, accounts: accountsOf(env) },
        id,
        env.other.address,
        env.tokenAddress,
        call,
        ids,
      );

    it("getRequest: every stored field reads back after request, claim and fulfil; the commitment is the off-chain one", async () => {
      const env = await networkHelpers.loadFixture(attestedFixture);
      const deadline = await deadlineIn();
      await env.market
        .connect(env.requester)
        .requestInference(2, INPUT, TOKEN_PRICE, deadline, env.consumerAddress, CALLBACK_GAS);
      const sent: RequestParams = {
        requester: env.requester.address,
        feeToken: env.tokenAddress,
        fee: TOKEN_PRICE,
        callback: env.consumerAddress,
        callbackGasLimit: CALLBACK_GAS,
        inputHash: keccak256(INPUT),
      };
      const commitment = commitmentOf(sent);
      expect(await env.market.commitmentOf(sent)).to.equal(commitment);
      expect(await paramsOf(env.market, 1)).to.deep.equal(sent);
      const stored = (status: Status, provider: string, reservedStake: bigint) => [
        BigInt(status),
        0n, // Attested
        deadline,
        2n,
        provider,
        reservedStake,
        commitment,
      ];
      expect([...(await env.market.getRequest(1))]).to.deep.equal(stored(Status.Pending, ZERO, 0n));
      await env.market.connect(env.provider).claim(1);
      const reserved = await env.market.reservationOf(2);
      expect(reserved).to.be.greaterThan(0n);
      expect([...(await env.market.getRequest(1))]).to.deep.equal(
        stored(Status.Claimed, env.provider.address, reserved),
      );
      await env.market.connect(env.provider).fulfil(1, sent, OUTPUT);
      // The reservation is reported only while the job is open.
      expect([...(await env.market.getRequest(1))]).to.deep.equal(stored(Status.Finalized, env.provider.address, 0n));
    });

    it("getRequest: modelId, deadline and fee at their limits pack without touching their neighbours", async () => {
      const env = await networkHelpers.loadFixture(attestedFixture);
      // A terms registry that answers for any id: model ids up to 2^40 - 1 are then reachable.
      const mock = await deploy(ethers, "MockTermsRegistry");
      const market = await deploy(ethers, "InferenceMarket", [
        env.admin.address,
        await mock.getAddress(),
        await env.providers.getAddress(),
        env.treasury.address,
        0,
        0,
      ]);
      const maxFee = 2n ** 96n - 1n;
      await mock.setTerms({
        owner: env.admin.address,
        mode: 0,
        royaltyBps: 0,
        feeToken: env.tokenAddress,
        price: maxFee,
      });
      await env.token.mint(env.requester.address, maxFee);
      await env.token.connect(env.requester).approve(await market.getAddress(), maxFee);
      const maxModel = 2n ** 40n - 1n;
      const deadline = BigInt(await time.latest()) + 1n + (await market.MAX_DEADLINE_DELAY());
      await time.setNextBlockTimestamp(deadline - (await market.MAX_DEADLINE_DELAY()));
      const gasLimit = await market.MAX_CALLBACK_GAS();
      const callback = "0x" + "ff".repeat(20);
      await market.connect(env.requester).requestInference(maxModel, INPUT, maxFee, deadline, callback, gasLimit);
      const sent = {
        requester: env.requester.address,
        feeToken: env.tokenAddress,
        fee: maxFee,
        callback: ethers.getAddress(callback),
        callbackGasLimit: gasLimit,
        inputHash: keccak256(INPUT),
      };
      expect([...(await market.getRequest(1))]).to.deep.equal([
        BigInt(Status.Pending),
        0n,
        deadline,
        maxModel,
        ZERO,
        0n,
        commitmentOf(sent),
      ]);
      await expect(market.connect(env.requester).requestInference(2n ** 40n, INPUT, maxFee, deadline, ZERO, 0))
        .to.be.revertedWithCustomError(market, "SafeCastOverflowedUintDowncast")
        .withArgs(40, 2n ** 40n);
    });

    it("attack: submit with forged params (fee, token, requester, callback, gas limit, input) is refused", async () => {
      const env = await networkHelpers.loadFixture(attestedFixture);
      const id = await request(env);
      await env.market.connect(env.provider).claim(id);
      await refuse(env, id, (p) => env.market.connect(env.provider).submit(id, p, OUTPUT));
      await expect(env.market.connect(env.provider).submit(id, await paramsOf(env.market, id), OUTPUT))
        .to.emit(env.market, "CallbackResult")
        .withArgs(id, true);
    });

    it("attack: fulfil with forged params is refused", async () => {
      const env = await networkHelpers.loadFixture(attestedFixture);
      const id = await request(env, 2);
      await refuse(env, id, (p) => env.market.connect(env.provider).fulfil(id, p, OUTPUT));
      await expect(env.market.connect(env.provider).fulfil(id, await paramsOf(env.market, id), OUTPUT))
        .to.emit(env.market, "CallbackResult")
        .withArgs(id, true);
    });

    it("attack: one forged item of a fulfilBatch reverts the whole batch", async () => {
      const env = await networkHelpers.loadFixture(attestedFixture);
      const a = await request(env);
      const b = await request(env, 2);
      const pa = await paramsOf(env.market, a);
      await refuse(env, b, (p) => env.market.connect(env.provider).fulfilBatch([a, b], [pa, p], [OUTPUT, OUTPUT]), [
        a,
        b,
      ]);
      await env.market
        .connect(env.provider)
        .fulfilBatch([a, b], await paramsOfAll(env.market, [a, b]), [OUTPUT, OUTPUT]);
      expect(await env.market.statusOf(b)).to.equal(BigInt(Status.Finalized));
    });

    it("attack: expire of a Pending request with forged params (the refund to another account) is refused", async () => {
      const env = await networkHelpers.loadFixture(attestedFixture);
      const id = await request(env);
      await time.increase(HOUR + 1n);
      await refuse(env, id, (p) => env.market.connect(env.other).expire(id, p));
      await expect(env.market.connect(env.other).expire(id, await paramsOf(env.market, id)))
        .to.emit(env.market, "Credited")
        .withArgs(env.requester.address, ZERO, ETH_PRICE);
    });

    it("attack: expire of a Claimed request with forged params is refused; the penalty goes to the real requester", async () => {
      const env = await networkHelpers.loadFixture(attestedFixture);
      const id = await request(env, 2);
      await env.market.connect(env.provider).claim(id);
      await time.increase(HOUR + 1n);
      await refuse(env, id, (p) => env.market.connect(env.other).expire(id, p));
      const tx = env.market.connect(env.other).expire(id, await paramsOf(env.market, id));
      await expect(tx).to.emit(env.market, "Credited").withArgs(env.requester.address, env.tokenAddress, TOKEN_PRICE);
      await expect(tx)
        .to.emit(env.market, "Credited")
        .withArgs(env.requester.address, ZERO, await env.market.claimPenalty());
    });

    it("attack: reportInvalidInput with forged params (the fee back to another account) is refused", async () => {
      const env = await networkHelpers.loadFixture(attestedFixture);
      const id = await request(env);
      await env.market.connect(env.provider).claim(id);
      await refuse(env, id, (p) => env.market.connect(env.provider).reportInvalidInput(id, p, 1));
      await expect(env.market.connect(env.provider).reportInvalidInput(id, await paramsOf(env.market, id), 1))
        .to.emit(env.market, "Credited")
        .withArgs(env.requester.address, ZERO, ETH_PRICE);
    });

    it("attack: the params of request A do not settle or refund request B", async () => {
      const env = await networkHelpers.loadFixture(attestedFixture);
      // Same model, input, fee and callback: only the requester differs.
      const a = await request(env);
      const b = (await env.market.requestCount()) + 1n;
      await env.market
        .connect(env.other)
        .requestInference(1, INPUT, ETH_PRICE, await deadlineIn(), env.consumerAddress, CALLBACK_GAS, {
          value: ETH_PRICE,
        });
      const pa = await paramsOf(env.market, a);
      const before = await snapshot(env.market, env.providers, env.token, accountsOf(env), [a, b]);
      await expect(env.market.connect(env.provider).fulfil(b, pa, OUTPUT))
        .to.be.revertedWithCustomError(env.market, "MarketRequestParamsMismatch")
        .withArgs(b);
      await time.increase(HOUR + 1n);
      await expect(env.market.expire(b, pa))
        .to.be.revertedWithCustomError(env.market, "MarketRequestParamsMismatch")
        .withArgs(b);
      expect(await snapshot(env.market, env.providers, env.token, accountsOf(env), [a, b])).to.deep.equal(before);
      await expect(env.market.expire(b, await paramsOf(env.market, b)))
        .to.emit(env.market, "Credited")
        .withArgs(env.other.address, ZERO, ETH_PRICE);
    });
  });

  describe("Zk and Optimistic requests (real dispute game)", () => {
    const BOND = ethers.parseEther("0.1");
    const SLASH = ethers.parseEther("0.5");
    const PRICE = ethers.parseEther("0.01");
    const WINDOW = 3600;
    const CLOCK = 1800;
    // dense 8 -> 16 (relu), dense 16 -> 4, argmax: three layers, one chunk each.
    const model = syntheticMlp({ seed: 11, sizes: [8, 16, 4], argmax: true });
    const input = syntheticInput(model, 5);
    const inputBytes = encodeInlineInput(input);
    const honest = executeVqm(model, input).trace;
    const specs = layerSpecs(model);
    /** The honest trace with its argmax changed: a wrong output. */
    const cheat: Tensor[] = honest.map((t, i) =>
      i === honest.length - 1
        ? ({ ...t, data: Int32Array.from(t.data as Int32Array, (v) => (v + 1) % 4) } as Tensor)
        : t,
    );

    async function gameFixture() {
      const [admin, treasury, modelOwner, provider, requester, challenger, other] = await signers(ethers);
      const suite = await deployGameSuite(ethers, admin, treasury, {
        minStake: ethers.parseEther("1"),
        bond: BOND,
        slash: SLASH,
        clockSec: CLOCK,
      });
      const verifier = await deploy(ethers, "ProofVerifierStub");
      await verifier.setAnswer(true);
      await registerMlpModels(suite.models, modelOwner, {
        model,
        specs,
        price: PRICE,
        window: WINDOW,
        verifier: await verifier.getAddress(),
      });
      await suite.providers.connect(provider).stake({ value: ethers.parseEther("1") });
      await suite.providers.connect(provider).optIn(1);
      await suite.providers.connect(provider).optIn(2);
      const accounts = [requester, provider, challenger, other, treasury, modelOwner].map((s) => s.address);
      const consumer = await deploy(ethers, "GasBurnerConsumer");
      return {
        ...suite,
        provider,
        requester,
        challenger,
        other,
        accounts,
        consumerAddress: await consumer.getAddress(),
      };
    }
    type Game = Awaited<ReturnType<typeof gameFixture>>;

    /** A claimed request for model 1 (Optimistic) or 2 (Zk) by `fx.requester`, calling the consumer back. */
    async function claimed(fx: Game, modelId: 1 | 2): Promise<bigint> {
      const deadline = (await time.latest()) + 86400;
      await fx.market
        .connect(fx.requester)
        .requestInference(modelId, inputBytes, PRICE, deadline, fx.consumerAddress, CALLBACK_GAS, {
          value: PRICE,
        });
      const id = await fx.market.requestCount();
      await fx.market.connect(fx.provider).claim(id);
      return id;
    }

    /** The claimed Optimistic request answered with the cheat's output and roots. */
    async function submitted(fx: Game): Promise<{ id: bigint; roots: string[] }> {
      const id = await claimed(fx, 1);
      const roots = traceTrees(cheat).roots;
      await fx.market.connect(fx.provider).submitOptimistic(id, encodeTensor(cheat[cheat.length - 1]!), roots);
      return { id, roots };
    }

    function challengeParams(request: RequestParams, defenderRoots: string[]) {
      const challengerRoots = traceTrees(honest).roots;
      const k = firstDifferingLayer(defenderRoots, challengerRoots)!;
      return {
        request,
        input: inputBytes,
        defenderRoots,
        challengerRoots,
        layerSpec: encodeLayerSpec(specs[k]!),
        layoutProof: layoutProof(specs, k),
      };
    }

    const refuse = (fx: Game, id: bigint, call: (forged: RequestParams) => Promise<unknown>) =>
      expectEachForgeryRefused(fx, id, fx.other.address, fx.other.address, call);

    it("attack: submitWithProof with forged params is refused", async () => {
      const fx = await networkHelpers.loadFixture(gameFixture);
      const id = await claimed(fx, 2);
      const output = encodeTensor({ dtype: "int32", shape: [1], data: Int32Array.of(2) });
      await refuse(fx, id, (p) => fx.market.connect(fx.provider).submitWithProof(id, p, inputBytes, output, "0x"));
      await fx.market.connect(fx.provider).submitWithProof(id, await paramsOf(fx.market, id), inputBytes, output, "0x");
      expect((await fx.market.getRequest(id)).mode).to.equal(1n);
      expect(await fx.market.statusOf(id)).to.equal(BigInt(Status.Finalized));
    });

    it("attack: finalize with forged params (another requester or fee) is refused", async () => {
      const fx = await networkHelpers.loadFixture(gameFixture);
      const { id } = await submitted(fx);
      await time.increase(WINDOW);
      await refuse(fx, id, (p) => fx.market.connect(fx.other).finalize(id, p));
      await fx.market.connect(fx.other).finalize(id, await paramsOf(fx.market, id));
      expect(await fx.market.statusOf(id)).to.equal(BigInt(Status.Finalized));
    });

    it("attack: a challenge or output challenge with forged request params is refused (openChallenge)", async () => {
      const fx = await networkHelpers.loadFixture(gameFixture);
      const { id, roots } = await submitted(fx);
      await refuse(fx, id, (p) =>
        fx.game.connect(fx.challenger).challenge(id, challengeParams(p, roots), { value: BOND }),
      );
      const output = (p: RequestParams) => ({
        request: p,
        input: inputBytes,
        defenderRoots: roots,
        index: 0,
        argmax: { root: ethers.ZeroHash, siblings: [] },
        token: "0x00000000",
      });
      await refuse(fx, id, (p) => fx.game.connect(fx.challenger).challengeOutput(id, output(p), { value: BOND }));
      expect(await fx.game.gameCount()).to.equal(0n);
    });

    it("attack: expire of a Challenged request with forged params is refused; the real ones refund the requester", async () => {
      const fx = await networkHelpers.loadFixture(gameFixture);
      const { id, roots } = await submitted(fx);
      const params = await paramsOf(fx.market, id);
      await fx.game.connect(fx.challenger).challenge(id, challengeParams(params, roots), { value: BOND });
      // Nobody moves and nobody claims the timeout: the game outlives every bound.
      await time.increaseTo((await fx.market.refundableAfter(id)) + 1n);
      await refuse(fx, id, (p) => fx.market.connect(fx.other).expire(id, p));
      await expect(fx.market.connect(fx.other).expire(id, params))
        .to.emit(fx.market, "Credited")
        .withArgs(fx.requester.address, ZERO, PRICE);
      expect(await fx.market.statusOf(id)).to.equal(BigInt(Status.Refunded));
    });

    it("resolveChallenge: a proven fault refunds the real requester, kept from the first openChallenge", async () => {
      const fx = await networkHelpers.loadFixture(gameFixture);
      const { id, roots } = await submitted(fx);
      await fx.game.connect(fx.challenger).challenge(id, challengeParams(await paramsOf(fx.market, id), roots), {
        value: BOND,
      });
      const gameId = await fx.game.gameCount();
      await time.increase(CLOCK + 1);
      const tx = fx.game.connect(fx.other).claimTimeout(gameId);
      await expect(tx).to.emit(fx.market, "RequestRefunded").withArgs(id, PRICE, 0);
      await expect(tx).to.emit(fx.market, "Credited").withArgs(fx.requester.address, ZERO, PRICE);
      expect(await fx.market.balanceOf(fx.requester.address, ZERO)).to.equal(PRICE);
      expect(await fx.market.escrowed(ZERO)).to.equal(0n);
      expect(await fx.market.statusOf(id)).to.equal(BigInt(Status.Refunded));
    });
  });
});
