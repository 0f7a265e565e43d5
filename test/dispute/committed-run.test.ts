/**
 * oracle/dispute/committed-run.ts and the decoder cheat of oracle/dispute/cheat.ts: a decoder's
 * committed run is its generation (T = P + N − 1 pass roots, generateVqm's ids), rebuilt bit for
 * bit from the trace file the provider defends from; the TEST-ONLY cheat changes one generated
 * token within the vocabulary and is refused where it names no pass (a decoder) or a pass (any
 * other model).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { namesDecoder } from "../../oracle/devnet/names-decoder.ts";
import { CheatRefusedError } from "../../oracle/dispute/cheat.ts";
import { runCommitted, runFromLayers, runLayers } from "../../oracle/dispute/committed-run.ts";
import { generationTrees } from "../../oracle/dispute/generation-proofs.ts";
import { readTraceFile, writeTraceFile } from "../../oracle/dispute/trace-file.ts";
import type { Tensor } from "../../oracle/model/tensor.ts";
import { generateVqm } from "../../oracle/model/vqm/sequence-executor.ts";
import { syntheticInput, syntheticMlp } from "../../oracle/model/vqm/synthetic-vqm.ts";

const decoder = namesDecoder(11);
const prompt: Tensor = { dtype: "int32", shape: [1, 8], data: Int32Array.from([0, 13, 1, 18, -1, -1, -1, -1]) };
const P = 4;
const N = decoder.sequence!.newTokens;
const LAST = decoder.layers.length - 1;

describe("committed runs: a decoder's generation as the provider commits to it and defends it", () => {
  it("commits the T = P + N − 1 pass roots of generateVqm's passes and its ids, and comes back bit for bit from the trace file", () => {
    const run = runCommitted(decoder, prompt);
    const honest = generateVqm(decoder, prompt);
    expect(run.kind).to.equal("generation");
    expect(run.roots).to.deep.equal(generationTrees(honest.passes).passRoots);
    expect(run.roots).to.have.length(P + N - 1);
    expect([...run.output.data]).to.deep.equal([...honest.output.data]);
    const dir = mkdtempSync(path.join(tmpdir(), "verity-committed-run-"));
    try {
      const file = path.join(dir, "1.trace");
      writeTraceFile(file, runLayers(run));
      const back = runFromLayers(decoder, prompt, readTraceFile(file));
      expect(back.roots).to.deep.equal(run.roots);
      expect([...back.output.data]).to.deep.equal([...run.output.data]);
      expect(back.kind === "generation" && back.promptLength).to.equal(P);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a cheat at the argmax of pass P − 1 + k changes gen[k] (within the vocabulary) and the passes after it, not before", () => {
    const honest = runCommitted(decoder, prompt);
    const vocabulary = decoder.sequence!.vocabSize;
    const cheat = runCommitted(decoder, prompt, { pass: P + 1, layer: LAST, element: 0, delta: vocabulary - 1 });
    const [ids, honestIds] = [cheat.output.data as Int32Array, honest.output.data as Int32Array];
    expect(ids.slice(0, 2)).to.deep.equal(honestIds.slice(0, 2));
    expect(ids[2]).to.equal((honestIds[2]! + vocabulary - 1) % vocabulary);
    expect(cheat.roots.slice(0, P + 1)).to.deep.equal(honest.roots.slice(0, P + 1));
    expect(cheat.roots[P + 1]).to.not.equal(honest.roots[P + 1]);
  });

  it("refuses a decoder cheat without a pass, and a pass for a model that is not a decoder", () => {
    expect(() => runCommitted(decoder, prompt, { layer: LAST, element: 0, delta: 1 }))
      .to.throw(CheatRefusedError)
      .with.property("shortMessage")
      .that.matches(/is a decoder; say which forward pass/);
    const mlp = syntheticMlp({ seed: 7, sizes: [8, 16, 4], argmax: true });
    expect(() => runCommitted(mlp, syntheticInput(mlp, 3), { pass: 1, layer: 0, element: 0, delta: 1 }))
      .to.throw(CheatRefusedError)
      .with.property("shortMessage")
      .that.matches(/is not a decoder/);
  });
});
