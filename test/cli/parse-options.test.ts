import { expect } from "chai";
import { ZeroAddress, Interface } from "ethers";
import {
  closest,
  parseAddress,
  parseDuration,
  parseEth,
  parseId,
  parseInteger,
  parseJson,
  parseUrl,
  shown,
} from "../../oracle/cli/parse-options.ts";
import { decodeRevertData, formatRevert } from "../../oracle/chain/revert-error.ts";
import { environmentSecrets, formatCliError } from "../../oracle/cli/format-error.ts";
import { BaseError } from "../../oracle/errors.ts";

/** The short message a parser throws for `text`. */
function refusal(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    return (error as BaseError).shortMessage;
  }
  throw new Error("expected a refusal");
}

const key = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

describe("cli/parse-options", () => {
  it("reads ETH amounts as wei, and names a word, a sign or too many decimals", () => {
    expect(parseEth("--price", "0.001")).to.equal(10n ** 15n);
    expect(parseEth("--price", "2")).to.equal(2n * 10n ** 18n);
    expect(parseEth("--price", ".5")).to.equal(5n * 10n ** 17n);
    expect(refusal(() => parseEth("--price", "abc"))).to.equal('--price "abc" is not an amount of ETH.');
    expect(refusal(() => parseEth("--price", "-1"))).to.equal('--price "-1" is negative.');
    expect(refusal(() => parseEth("--price", "1e3"))).to.equal('--price "1e3" is not an amount of ETH.');
    expect(refusal(() => parseEth("--price", "0.0000000000000000001"))).to.include("more than 18 decimals");
  });

  it("reads ids, whole numbers, durations, addresses and URLs", () => {
    expect(parseId("--model", "7", "model")).to.equal(7n);
    expect(refusal(() => parseId("--model", "abc", "model"))).to.equal('--model "abc" is not a model id.');
    expect(refusal(() => parseId("--model", "0", "model"))).to.equal('--model "0" is not a model id.');
    expect(parseInteger("--royalty-bps", "500", { max: 10_000 })).to.equal(500n);
    expect(refusal(() => parseInteger("--royalty-bps", "20000", { max: 10_000 }))).to.equal(
      "--royalty-bps 20000 is out of range.",
    );
    expect([parseDuration("--ttl", "90"), parseDuration("--ttl", "5m"), parseDuration("--ttl", "1h")]).to.deep.equal([
      90, 300, 3600,
    ]);
    expect(refusal(() => parseDuration("--ttl", "-5"))).to.equal('--ttl "-5" is not a duration.');
    expect(parseAddress("--token", ZeroAddress)).to.equal(ZeroAddress);
    expect(refusal(() => parseAddress("--token", "0xabc"))).to.equal('--token "0xabc" is not an address.');
    expect(parseUrl("--kubo", "http://127.0.0.1:5001")).to.equal("http://127.0.0.1:5001");
    expect(refusal(() => parseUrl("--kubo", "localhost:5001"))).to.equal(
      '--kubo "localhost:5001" is not an http or https URL.',
    );
    expect(closest("reqest", ["request", "withdraw"])).to.equal("request");
    expect(closest("frobnicate", ["request", "withdraw"])).to.equal(undefined);
  });

  it("never repeats a value that looks like a key or a mnemonic", () => {
    const mnemonic = "test test test test test test test test test test test junk";
    for (const secret of [key, key.slice(2), mnemonic]) {
      expect(shown(secret)).to.not.include(secret);
      expect(refusal(() => parseId("--model", secret, "model"))).to.not.include(secret.slice(4, 20));
      expect(refusal(() => parseAddress("--address", secret))).to.not.include(secret.slice(4, 20));
    }
  });

  it("names the line and column of a JSON mistake, and never quotes the text", () => {
    expect(parseJson('{ "a": [1] }', "x")).to.deep.equal({ a: [1] });
    expect(parseJson('\uFEFF{"a": 1}', "x")).to.deep.equal({ a: 1 }); // a byte-order mark
    const cases: [string, string][] = [
      ['{\n  "data": [1, 2,]\n}', "line 2, column 17: unexpected ']'"],
      ['{\n  "a": 1\n  "b": 2\n}', "line 3, column 3: expected ',' or '}' after property value"],
      ['{"a": tru}', "line 1, column 10: unexpected '}'"],
      ['{"a": [1, 2', "line 1, column 12: the text ends too early"],
      ["", "line 1, column 1: the text ends too early"],
      ["{'a': 1}", "line 1, column 2: expected property name or '}'"],
    ];
    for (const [text, where] of cases)
      expect(refusal(() => parseJson(text, "INPUT.json"))).to.equal(`INPUT.json is not valid JSON: ${where}.`);
    // V8 quotes the text around some mistakes; a key on that line must not come out.
    const leaked = refusal(() => parseJson(`{"privateKey": ${key.slice(2)}x}`, "config.json"));
    expect(leaked).to.not.include(key.slice(2, 12));
  });
});

describe("cli/format-error and chain/revert-error", () => {
  it("decodes every contract's custom errors, enums by name, Error(string) and Panic", () => {
    const encode = (signature: string, args: unknown[]) =>
      new Interface([`error ${signature}`]).encodeErrorResult(signature.split("(")[0]!, args);
    const decode = (signature: string, args: unknown[]) => formatRevert(decodeRevertData(encode(signature, args))!);
    expect(decode("ModelRoyaltyTooHigh(uint16,uint16)", [9000, 5000])).to.equal("ModelRoyaltyTooHigh(9000, 5000)");
    expect(decode("MarketWrongStatus(uint256,uint8)", [7, 5])).to.equal("MarketWrongStatus(7, Finalized)");
    expect(decode("ProviderZeroAmount()", [])).to.equal("ProviderZeroAmount()");
    expect(decode("GameNothingToWithdraw(address)", [ZeroAddress])).to.equal(`GameNothingToWithdraw(${ZeroAddress})`);
    expect(decode("ERC20InsufficientBalance(address,uint256,uint256)", [ZeroAddress, 1, 2])).to.equal(
      `ERC20InsufficientBalance(${ZeroAddress}, 1, 2)`,
    );
    expect(decode("Error(string)", ["nope"])).to.equal('"nope"');
    expect(decode("Panic(uint256)", [0x11])).to.equal("Panic(0x11: arithmetic overflow or underflow)");
  });

  it("prints `error:` and its details, the stack only when verbose, and redacts the environment's secrets", () => {
    const error = new BaseError(`Bad key ${key}.`, { details: ["Fix it."] });
    const secrets = environmentSecrets({
      VERITY_PRIVATE_KEY: key,
      VERITY_KEYSTORE_PASSWORD: "hunter22",
      HOME: "/root",
    });
    expect(formatCliError(error, { secrets })).to.deep.equal(["error: Bad key <redacted>.", "  Fix it."]);
    const verbose = formatCliError(new BaseError("Wrong password hunter22."), { secrets, verbose: true }).join("\n");
    expect(verbose).to.match(/^\s+at /m);
    expect(verbose).to.not.include("hunter22");
    const rpc = "https://sepolia.example.org/v3/0123456789abcdef";
    const urls = environmentSecrets({ SEPOLIA_RPC_URL: rpc, VERITY_RPC_URL: "http://127.0.0.1:8545" });
    expect(urls).to.deep.equal([rpc]); // a local URL holds nothing secret and stays readable
    expect(formatCliError(new Error(`fetch ${rpc} failed`), { secrets: urls })[0]).to.equal(
      "error: fetch <redacted> failed",
    );
    expect(formatCliError(new TypeError("boom"))).to.deep.equal([
      "error: boom",
      "  An unexpected error: run the command again with --verbose for the stack trace.",
    ]);
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), {
      code: "ECONNREFUSED",
      address: "127.0.0.1",
      port: 9,
    });
    expect(formatCliError(refused)[0]).to.equal("error: Nothing answers at 127.0.0.1:9 (connection refused).");
  });
});
