/**
 * The explorer in a real browser: Debian's Chromium driven by playwright-core against a local
 * suite with requests in every state (Finalized and Failed by a real provider daemon, Pending,
 * Refunded by expire, Challenged with a game in progress) and `verity explorer` run as its own
 * process, as an operator would. Saves a screenshot (docs/explorer.png with
 * VERITY_UPDATE_SCREENSHOT=1).
 */
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { formatEther } from "ethers";
import { chromium, type Browser, type Page } from "playwright-core";
import { connectSuite } from "../../oracle/chain/connect.ts";
import { findRequestParams } from "../../oracle/chain/request-params.ts";
import { challengeParams } from "../../oracle/devnet/open-game.ts";
import { startOptimisticSuite, type OptimisticSuite } from "../../oracle/devnet/optimistic-suite.ts";
import { spawnDaemon, type SpawnedDaemon } from "../../oracle/devnet/spawn-daemon.ts";
import { layerSpecs } from "../../oracle/dispute/layout.ts";
import { traceTrees } from "../../oracle/dispute/moves.ts";
import { encodeInlineInput } from "../../oracle/model/input-envelope.ts";
import { createTensor, type Tensor } from "../../oracle/model/tensor.ts";
import { encodeTensor } from "../../oracle/model/tensor-codec.ts";
import { executeVqm } from "../../oracle/model/vqm/reference-executor.ts";
import { sleep } from "../../oracle/util/retry.ts";
import { root, verity } from "../cli/run-verity.ts";
import { disputeInput, disputeModel } from "../node/dispute-helpers.ts";
import { ask, tempDir, waitForStatus } from "../node/helpers.ts";

const CHROMIUM = "/usr/bin/chromium";
/**
 * The docs' screenshot is rewritten only when asked (VERITY_UPDATE_SCREENSHOT=1): every run's
 * image differs a little, and `npm test` should not leave the work tree changed.
 */
const SCREENSHOT = process.env.VERITY_UPDATE_SCREENSHOT
  ? path.join(root, "docs/explorer.png")
  : path.join(tmpdir(), "verity-explorer.png");

/** The status the page shows for request `id`, once it shows `status` (polls the DOM, no reload). */
async function expectStatus(page: Page, id: bigint, status: string): Promise<void> {
  const cell = page.locator(`#requests tr[data-id="${id}"] [data-field="status"]`);
  await cell.filter({ hasText: new RegExp(`^${status}$`) }).waitFor({ timeout: 15_000 });
}

describe("verity explorer in a real browser", function () {
  this.timeout(120_000);
  const temp = tempDir("verity-explorer-");
  let opt: OptimisticSuite;
  let daemon: SpawnedDaemon;
  let explorer: SpawnedDaemon;
  let browser: Browser;
  let page: Page;
  let url: string;
  const ids: Record<string, bigint> = {};
  let gameId: bigint;

  before(async () => {
    // Not a skip: CI installs it (.ci/run), and a missing browser must be said, not hidden.
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is missing: run \`apt-get install -y chromium\` (as root) for the browser tests.`);
    opt = await startOptimisticSuite({ dir: temp.dir, models: [disputeModel] });
    const { local } = opt;
    daemon = spawnDaemon({
      config: local.daemonConfig(),
      dir: temp.dir,
      privateKey: local.actors.provider.privateKey,
    });
    await daemon.waitForLog((line) => line.msg === "provider daemon started");
    explorer = spawnDaemon({
      dir: temp.dir,
      name: "explorer",
      privateKey: "",
      command: ["explorer", "--port", "0", "--rpc", local.devnet.url, "--deployment", local.deploymentFile],
    });
    for (let i = 0; !explorer.stdout.some((line) => line.startsWith("explorer http")); i++) {
      if (i > 200) throw new Error(`the explorer did not start: ${explorer.stderr.join(" ")}`);
      await sleep(50);
    }
    url = /(http:\S+)/.exec(explorer.stdout.find((line) => line.startsWith("explorer http"))!)![1]!;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  });

  after(async () => {
    await browser?.close();
    const code = await explorer?.stop();
    expect(code, "SIGTERM stops the explorer cleanly").to.equal(0);
    expect(explorer.stdout).to.include("explorer stopped");
    await daemon?.stop();
    await opt?.close();
    temp.remove();
  });

  it("shows requests in every state, the models, the provider's stake and a dispute in progress", async () => {
    const { local } = opt;
    const market = local.suite.inferenceMarket;
    const optimistic = opt.modelIds[0]!;
    const sample = local.iris.manifest.samples[0]!.inputEnvelope;
    ids.finalized = await ask(local, sample);
    ids.failed = await ask(local, encodeInlineInput(createTensor("float32", [1, 3], [1, 2, 3])));
    // The daemon serves iris only: requests for the Optimistic model wait for someone else.
    for (const [id, status] of [
      [ids.finalized!, "Finalized"],
      [ids.failed!, "Failed"],
    ] as const)
      expect(await waitForStatus(market, id, [status], 30_000)).to.equal(status);
    ids.pending = await opt.ask(optimistic, disputeInput);
    ids.refunded = await opt.ask(optimistic, disputeInput, 30);
    await local.rpc.send("evm_increaseTime", [31]);
    await local.rpc.send("evm_mine", []);
    await (await market.expire(ids.refunded, await findRequestParams(market, ids.refunded))).wait();

    // A cheating provider's result and a watcher's challenge; nobody plays on, so the game stays open.
    ids.challenged = await opt.ask(optimistic, disputeInput);
    const honest = executeVqm(disputeModel, disputeInput).trace;
    const cheat = honest.map((t) => ({ ...t, data: t.data.slice() }) as Tensor);
    cheat[2]!.data[0] = (Number(cheat[2]!.data[0]) + 1) % 4;
    const cheatRoots = traceTrees(cheat).roots;
    const asCheater = connectSuite(local.deployment, opt.actors.cheater).inferenceMarket;
    await (await asCheater.claim(ids.challenged)).wait();
    await (await asCheater.submitOptimistic(ids.challenged, encodeTensor(cheat[2]!), cheatRoots)).wait();
    const params = challengeParams(
      { specs: layerSpecs(disputeModel) },
      await findRequestParams(market, ids.challenged),
      encodeInlineInput(disputeInput),
      cheatRoots,
      traceTrees(honest).roots,
    );
    const bond = await opt.game.requiredBond(ids.challenged);
    const receipt = await (
      await opt.game.connect(opt.actors.watcher).challenge(ids.challenged, params, { value: bond })
    ).wait();
    gameId = opt.game.interface.parseLog(
      receipt!.logs.find((l) => opt.game.interface.parseLog(l)?.name === "GameStarted")!,
    )!.args[0] as bigint;

    await page.goto(url);
    await expectStatus(page, ids.finalized!, "Finalized");
    await expectStatus(page, ids.failed!, "Failed");
    await expectStatus(page, ids.pending!, "Pending");
    await expectStatus(page, ids.refunded!, "Refunded");
    await expectStatus(page, ids.challenged!, "Challenged");
    const finalized = page.locator(`#requests tr[data-id="${ids.finalized}"]`);
    expect(await finalized.locator('[data-field="timeToFinality"]').textContent()).to.match(/^\d+ s$/);
    expect(Number(await finalized.locator('[data-field="gas"]').textContent())).to.be.greaterThan(21_000);
    expect(await finalized.locator('[data-field="fee"]').textContent()).to.equal(
      `${formatEther(local.iris.price)} ETH`,
    );
    // The market stores neither requester nor fee: the page reads them from the request's event.
    const addressIn = async (field: string) =>
      (await finalized.locator(`[data-field="${field}"]`).getAttribute("title"))?.toLowerCase();
    expect(await addressIn("requester")).to.equal(local.actors.user.address.toLowerCase());
    expect(await addressIn("provider")).to.equal(local.actors.provider.address.toLowerCase());

    const modes = await page
      .locator("#models tr[data-id]")
      .evaluateAll((rows) =>
        rows.map((row) => [row.getAttribute("data-id"), row.querySelector('[data-field="mode"]')!.textContent]),
      );
    expect(modes).to.deep.include.members([
      [local.iris.modelId.toString(), "Attested"],
      [optimistic.toString(), "Optimistic"],
    ]);
    const provider = local.actors.provider.address;
    const stake = await local.suite.providerRegistry.stakeOf(provider);
    await page
      .locator(`#providers tr[data-id="${provider}"] [data-field="stake"]`)
      .filter({ hasText: `${formatEther(stake)} ETH` })
      .waitFor({ timeout: 10_000 });
    expect(await page.locator(`#providers tr[data-id="${provider}"] [data-field="served"]`).textContent()).to.equal(
      "1",
    );

    const dispute = page.locator(`#disputes tr[data-id="${gameId}"]`);
    await dispute.waitFor({ timeout: 10_000 });
    expect(await dispute.locator('[data-field="request"]').textContent()).to.equal(ids.challenged!.toString());
    expect(await dispute.locator('[data-field="phase"]').textContent()).to.not.match(/Resolved/);
    expect(await dispute.locator('[data-field="turn"]').textContent()).to.match(/^(Defender|Challenger)$/);
    expect(await dispute.locator('[data-field="defenderClock"]').textContent()).to.match(/\d+ (s|min|h)/);
    expect(await dispute.locator('[data-field="lastMove"]').textContent()).to.match(/^challenge/);
    await page.screenshot({ path: SCREENSHOT });
  });

  it("shows a new request without reloading the page", async () => {
    let navigations = 0;
    page.on("framenavigated", () => navigations++);
    const id = await opt.ask(opt.modelIds[0]!, disputeInput);
    await expectStatus(page, id, "Pending");
    expect(navigations).to.equal(0);
  });

  it("names the port in use, and an unreachable node, in one line", async () => {
    const { local } = opt;
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const chain = ["--rpc", local.devnet.url, "--deployment", local.deploymentFile];
      const inUse = await verity(["explorer", "--port", String(port), ...chain]);
      expect(inUse.code).to.equal(1);
      expect(inUse.stderr.split("\n")[0]).to.equal(`error: Port ${port} on 127.0.0.1 is in use.`);
      const down = await verity(["explorer", "--rpc", "http://127.0.0.1:9", "--deployment", local.deploymentFile]);
      expect(down.code).to.equal(1);
      expect(down.stderr.split("\n")[0]).to.match(
        /^error: Cannot reach the JSON-RPC node of localhost at http:\/\/127\.0\.0\.1:9/,
      );
    } finally {
      busy.close();
    }
  });
});
