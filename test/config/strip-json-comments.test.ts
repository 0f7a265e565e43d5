import { expect } from "chai";
import { stripJsonComments } from "../../oracle/config/strip-json-comments.ts";

const parse = (text: string) => JSON.parse(stripJsonComments(text));

describe("config/strip-json-comments", () => {
  it("removes line and block comments", () => {
    expect(parse(`// head\n{ /* a */ "a": 1, // tail\n "b": /* inline */ 2 }`)).to.deep.equal({ a: 1, b: 2 });
  });

  it("leaves // and /* inside strings alone, URLs included", () => {
    expect(
      parse(`{ "url": "http://127.0.0.1:8545", "glob": "a/*b*/c", "s": "// not a comment" } // real`),
    ).to.deep.equal({
      url: "http://127.0.0.1:8545",
      glob: "a/*b*/c",
      s: "// not a comment",
    });
  });

  it("handles escaped quotes and backslashes inside strings", () => {
    expect(parse(String.raw`{ "a": "say \"//hi\"", "b": "C:\\dir\\", "c": "x" } // end`)).to.deep.equal({
      a: 'say "//hi"',
      b: "C:\\dir\\",
      c: "x",
    });
  });

  it("drops trailing commas, also before comments", () => {
    expect(parse(`{ "a": [1, 2, /* last */ ], "b": { "c": 3, // c\n }, }`)).to.deep.equal({ a: [1, 2], b: { c: 3 } });
    expect(parse(`{ "a": "x,}" }`)).to.deep.equal({ a: "x,}" });
  });

  it("keeps line and column positions", () => {
    const text = `{\n  /* one\n two */ "a": 1,\n  "b": oops\n}`;
    const stripped = stripJsonComments(text);
    expect(stripped.length).to.equal(text.length);
    expect(stripped.split("\n").length).to.equal(text.split("\n").length);
    expect(stripped.indexOf("oops")).to.equal(text.indexOf("oops"));
  });

  it("reports an unterminated block comment", () => {
    expect(() => stripJsonComments(`{ /* open`)).to.throw(/Unterminated/);
  });
});
