import { expect } from "chai";
import { BaseError } from "../../oracle/errors.ts";
import { createLogger } from "../../oracle/log/logger.ts";

function capture() {
  const lines: string[] = [];
  return {
    lines,
    stream: { write: (line: string) => lines.push(line) },
    records: () => lines.map((l) => JSON.parse(l)),
  };
}

const now = () => new Date("2025-01-02T03:04:05.000Z");

describe("log/logger", () => {
  it("writes one JSON object per line with time, level, msg, bindings and fields", () => {
    const out = capture();
    const logger = createLogger({ level: "info", stream: out.stream, bindings: { service: "provider" }, now });
    logger.info("claimed", { requestId: 7n });
    expect(out.lines).to.have.length(1);
    expect(out.lines[0]!.endsWith("\n")).to.equal(true);
    expect(out.records()[0]).to.deep.equal({
      time: "2025-01-02T03:04:05.000Z",
      level: "info",
      msg: "claimed",
      service: "provider",
      requestId: "7",
    });
  });

  it("drops lines below its level", () => {
    const out = capture();
    const logger = createLogger({ level: "warn", stream: out.stream, now });
    logger.debug("a");
    logger.info("b");
    logger.warn("c");
    logger.error("d");
    expect(out.records().map((r) => r.msg)).to.deep.equal(["c", "d"]);
  });

  it("children add bindings", () => {
    const out = capture();
    const child = createLogger({ stream: out.stream, bindings: { a: 1 }, now }).child({ b: 2 });
    child.info("x", { c: 3 });
    expect(out.records()[0]).to.include({ a: 1, b: 2, c: 3 });
  });

  it("serialises bigint, bytes and errors with details and causes", () => {
    const out = capture();
    const root = Object.assign(new Error("ECONNREFUSED"), { code: "ECONNREFUSED" });
    const error = new BaseError("Claim failed.", { details: ["request 7"], cause: root });
    createLogger({ stream: out.stream, now }).error("failed", {
      big: 2n ** 70n,
      bytes: new Uint8Array([0, 1, 255]),
      error,
    });
    const record = out.records()[0];
    expect(record.big).to.equal("1180591620717411303424");
    expect(record.bytes).to.equal("0x0001ff");
    expect(record.error).to.deep.equal({
      name: "VerityError",
      message: "Claim failed.",
      details: ["request 7"],
      cause: { name: "Error", message: "ECONNREFUSED", code: "ECONNREFUSED" },
    });
  });

  it("redacts secrets at any depth", () => {
    const out = capture();
    createLogger({ stream: out.stream, bindings: { privateKey: "0xabc" }, now }).info("config", {
      config: { rpcUrl: "http://x", privateKey: "0x" + "11".repeat(32), nested: { password: "p", Secret: "s" } },
    });
    const text = out.lines[0]!;
    expect(text).not.to.contain("0xabc");
    expect(text).not.to.contain("1111");
    const record = out.records()[0];
    expect(record.privateKey).to.equal("[redacted]");
    expect(record.config.nested).to.deep.equal({ password: "[redacted]", Secret: "[redacted]" });
    expect(record.config.rpcUrl).to.equal("http://x");
  });

  it("survives circular values", () => {
    const out = capture();
    const a: Record<string, unknown> = { name: "a" };
    a.self = a;
    createLogger({ stream: out.stream, now }).info("loop", { a });
    expect(out.records()[0].a).to.deep.equal({ name: "a", self: "[Circular]" });
  });
});
