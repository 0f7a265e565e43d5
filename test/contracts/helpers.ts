// Shared deployment for the contract tests (no side effects: mocha loads every .ts under test/).
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { hexlify, type BigNumberish } from "ethers";
import { findRequestParams, type RequestParams } from "../../oracle/chain/request-params.ts";
import { encodeTensor, encodedTensorSize } from "../../oracle/model/tensor-codec.ts";
import { allocateData, elementCount } from "../../oracle/model/tensor.ts";
import type { DType } from "../../oracle/model/tensor.ts";
import type * as Contracts from "../../types/ethers-contracts/index.ts";

export const ZERO = "0x0000000000000000000000000000000000000000";
export const MIN_STAKE = 10n ** 18n;
export const UNBONDING_DELAY = 7n * 24n * 3600n;
export const PROTOCOL_FEE_BPS = 250n;
export const CLAIM_PENALTY = 5n * 10n ** 17n;
export const ETH_PRICE = 10n ** 16n;
export const ETH_ROYALTY_BPS = 1000n;
export const TOKEN_PRICE = 1000n * 10n ** 18n;
export const TOKEN_ROYALTY_BPS = 500n;
export const HOUR = 3600n;

export enum Status {
  None,
  Pending,
  Claimed,
  Submitted,
  Challenged,
  Finalized,
  Refunded,
  Failed,
}

/** Canonical float32 [1, 3] output bytes (the default model's output format), elements zero unless given. */
export function outputBytes(values: readonly number[] = [0, 0, 0]): string {
  const body = Buffer.alloc(12);
  values.forEach((v, i) => body.writeFloatLE(v, 4 * i));
  return "0x" + "010302" + "00000001" + "00000003" + body.toString("hex");
}

/** Canonical tensor bytes (oracle/model/tensor-codec.ts) of `dtype` and `shape`, as hex; the
 *  elements are `values` (cycled) or zero. */
export function tensorHex(dtype: DType, shape: readonly number[], values: readonly number[] = []): string {
  const data = allocateData(dtype, elementCount(shape));
  if (values.length > 0)
    for (let i = 0; i < data.length; i++) {
      const v = values[i % values.length]!;
      if (data instanceof BigInt64Array) data[i] = BigInt(v);
      else data[i] = v;
    }
  return hexlify(encodeTensor({ dtype, shape, data }));
}

/** The canonical header (version, dtype code, rank, big-endian dims) of `dtype` and `shape`, as
 *  hex, and the whole tensor's byte length: what `ModelRegistry.inputFormatOf`/`outputFormatOf`
 *  commit to, computed by encoding a zero tensor of that dtype and shape with the codec. */
export function tensorFormat(dtype: DType, shape: readonly number[]): { header: string; byteLength: number } {
  const tensor = { dtype, shape, data: allocateData(dtype, elementCount(shape)) };
  const bytes = encodeTensor(tensor);
  return { header: hexlify(bytes.subarray(0, 3 + 4 * shape.length)), byteLength: encodedTensorSize(tensor) };
}

/** An inline input envelope (kind 0x00) around canonical tensor bytes given as hex. */
export function inline(tensor: string): string {
  return "0x00" + tensor.slice(2);
}

export function modelParams(overrides: Record<string, unknown> = {}) {
  return {
    modelHash: "0x" + "11".repeat(32),
    contentId: "bafy-model",
    mode: 0,
    feeToken: ZERO,
    price: ETH_PRICE,
    royaltyBps: ETH_ROYALTY_BPS,
    inputShape: [1, 4],
    outputShape: [1, 3],
    inputDtype: 3, // float32
    outputDtype: 3,
    verifier: ZERO,
    weightsRoot: "0x" + "00".repeat(32),
    layoutRoot: "0x" + "00".repeat(32),
    layerCount: 0,
    challengeWindow: 0,
    ...overrides,
  };
}

/** Parameters that are no request's (all zero): what a call about an unknown id carries. */
export const NO_PARAMS: RequestParams = {
  requester: ZERO,
  feeToken: ZERO,
  fee: 0n,
  callback: ZERO,
  callbackGasLimit: 0n,
  inputHash: "0x" + "00".repeat(32),
};

/**
 * Request `id`'s parameters as off-chain callers get them (oracle/chain/request-params.ts, from
 * its `InferenceRequested` event), or {@link NO_PARAMS} for an id the market does not know (the
 * tests that send those check the market refuses the id).
 */
export async function paramsOf(market: Contracts.InferenceMarket, id: BigNumberish): Promise<RequestParams> {
  if ((await market.getRequest(id)).status === 0n) return NO_PARAMS;
  return findRequestParams(market, BigInt(id));
}

/** {@link paramsOf} of each id, in order (a `fulfilBatch`'s `params`). */
export async function paramsOfAll(
  market: Contracts.InferenceMarket,
  ids: readonly BigNumberish[],
): Promise<RequestParams[]> {
  return Promise.all(ids.map((id) => paramsOf(market, id)));
}

type Signer = HardhatEthersSigner;

/** The first seven default accounts, as a tuple (the node always has twenty). */
export async function signers(
  ethers: HardhatEthers,
): Promise<[Signer, Signer, Signer, Signer, Signer, Signer, Signer]> {
  const all = await ethers.getSigners();
  if (all.length < 7) throw new Error("need 7 accounts");
  return all.slice(0, 7) as [Signer, Signer, Signer, Signer, Signer, Signer, Signer];
}

/** The contracts these tests deploy, by artifact name, with their typechain types. */
interface Deployable {
  ModelRegistry: Contracts.ModelRegistry;
  ProviderRegistry: Contracts.ProviderRegistry;
  InferenceMarket: Contracts.InferenceMarket;
  ExampleClassifierConsumer: Contracts.ExampleClassifierConsumer;
  TestToken: Contracts.TestToken;
  FeeOnTransferToken: Contracts.FeeOnTransferToken;
  MockTermsRegistry: Contracts.MockTermsRegistry;
  GasBurnerConsumer: Contracts.GasBurnerConsumer;
  RevertingConsumer: Contracts.RevertingConsumer;
  ReentrantConsumer: Contracts.ReentrantConsumer;
  FulfilReentrantConsumer: Contracts.FulfilReentrantConsumer;
  ReentrantProvider: Contracts.ReentrantProvider;
  ProofVerifierStub: Contracts.ProofVerifierStub;
  ExpectingProofVerifier: Contracts.ExpectingProofVerifier;
  LayerStepProver: Contracts.LayerStepProver;
  DisputeGame: Contracts.DisputeGame;
}

/** `ethers.deployContract` typed by artifact name (typechain's overloads are a global augmentation
 *  that the project's tsconfig does not load). */
export async function deploy<N extends keyof Deployable>(
  ethers: HardhatEthers,
  name: N,
  args: unknown[] = [],
): Promise<Deployable[N]> {
  return (await ethers.deployContract(name, args)) as unknown as Deployable[N];
}

/** Registries (challenge windows 1 s to 1 day), market (named by the provider registry), a
 *  token, an ETH model (id 1) and a token model (id 2), both Attested with float32 [1, 4] →
 *  [1, 3] tensors, and a provider staked at the minimum serving both. */
export async function deployAll(ethers: HardhatEthers) {
  const [admin, treasury, modelOwner, provider, provider2, requester, other] = await signers(ethers);
  const models = await deploy(ethers, "ModelRegistry", [1, 86400]);
  const providers = await deploy(ethers, "ProviderRegistry", [admin.address, MIN_STAKE, UNBONDING_DELAY]);
  const market = await deploy(ethers, "InferenceMarket", [
    admin.address,
    await models.getAddress(),
    await providers.getAddress(),
    treasury.address,
    PROTOCOL_FEE_BPS,
    CLAIM_PENALTY,
  ]);
  const marketAddress = await market.getAddress();
  await providers.setMarket(marketAddress);
  const token = await deploy(ethers, "TestToken");
  const tokenAddress = await token.getAddress();

  await models.connect(modelOwner).register(modelParams());
  await models
    .connect(modelOwner)
    .register(modelParams({ feeToken: tokenAddress, price: TOKEN_PRICE, royaltyBps: TOKEN_ROYALTY_BPS }));

  await providers.connect(provider).stake({ value: MIN_STAKE });
  await providers.connect(provider).optIn(1);
  await providers.connect(provider).optIn(2);

  await token.mint(requester.address, TOKEN_PRICE * 100n);
  await token.connect(requester).approve(marketAddress, TOKEN_PRICE * 100n);

  return {
    admin,
    treasury,
    modelOwner,
    provider,
    provider2,
    requester,
    other,
    models,
    providers,
    market,
    marketAddress,
    token,
    tokenAddress,
  };
}
