import { expect } from "chai";
import { backoffDelay, sleep, withRetry } from "../../oracle/util/retry.ts";
import { rejection } from "./rejection.ts";

describe("util/retry", () => {
  it("sleep resolves after the delay and rejects on abort", async () => {
    const started = Date.now();
    await sleep(20);
    expect(Date.now() - started).to.be.at.least(15);
    const controller = new AbortController();
    const pending = sleep(10_000, controller.signal);
    controller.abort(new Error("stop"));
    expect(((await rejection(pending)) as Error).message).to.equal("stop");
    expect(await rejection(sleep(10, AbortSignal.abort(new Error("early"))))).to.have.property("message", "early");
  });

  it("backoff grows exponentially under a cap, scaled by the random draw", () => {
    const params = { baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.5 };
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, params))).to.deep.equal([50, 100, 200, 400, 500, 500]);
    expect(backoffDelay(3, { ...params, random: () => 0 })).to.equal(0);
  });

  it("retries until success, reporting each retry with its delay", async () => {
    const retries: [string, number, number][] = [];
    let calls = 0;
    const result = await withRetry(
      async (attempt) => {
        calls++;
        if (attempt < 3) throw new Error(`fail ${attempt}`);
        return "ok";
      },
      {
        attempts: 5,
        baseDelayMs: 4,
        maxDelayMs: 100,
        random: () => 0.5,
        onRetry: (error, attempt, delayMs) => retries.push([(error as Error).message, attempt, delayMs]),
      },
    );
    expect(result).to.equal("ok");
    expect(calls).to.equal(3);
    expect(retries).to.deep.equal([
      ["fail 1", 1, 2],
      ["fail 2", 2, 4],
    ]);
  });

  it("gives up after `attempts` and throws the last error", async () => {
    let calls = 0;
    const error = await rejection(
      withRetry(
        async () => {
          calls++;
          throw new Error(`fail ${calls}`);
        },
        { attempts: 3, baseDelayMs: 1, maxDelayMs: 1, random: () => 0 },
      ),
    );
    expect(calls).to.equal(3);
    expect((error as Error).message).to.equal("fail 3");
  });

  it("stops at once when shouldRetry says no", async () => {
    let calls = 0;
    const error = await rejection(
      withRetry(
        async () => {
          calls++;
          throw new Error("reverted");
        },
        { attempts: 5, baseDelayMs: 1, maxDelayMs: 1, shouldRetry: (e) => (e as Error).message !== "reverted" },
      ),
    );
    expect(calls).to.equal(1);
    expect((error as Error).message).to.equal("reverted");
  });

  it("stops waiting when the signal aborts", async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = withRetry(
      async () => {
        throw new Error("down");
      },
      { attempts: 10, baseDelayMs: 10_000, maxDelayMs: 10_000, random: () => 0.99, signal: controller.signal },
    );
    setTimeout(() => controller.abort(new Error("shutdown")), 20);
    expect(((await rejection(pending)) as Error).message).to.equal("shutdown");
    expect(Date.now() - started).to.be.lessThan(1000);
  });
});
