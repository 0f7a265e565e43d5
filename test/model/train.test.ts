import { expect } from "chai";
import { accuracy, fitStandardisation, standardise, stratifiedSplit } from "../../oracle/model/train/dataset.ts";
import {
  applyGradients,
  foldStandardisation,
  forward,
  initMlp,
  lossAndGradients,
  softmax,
  trainMlp,
} from "../../oracle/model/train/mlp.ts";
import type { Mlp } from "../../oracle/model/train/mlp.ts";
import { createPrng, shuffle } from "../../oracle/model/train/prng.ts";
import { assertClose } from "../util/assert-close.ts";

describe("training math", () => {
  it("the PRNG is seeded and repeatable", () => {
    const a = createPrng(42);
    const b = createPrng(42);
    const first = Array.from({ length: 5 }, () => a.next());
    expect(first).to.deep.equal(Array.from({ length: 5 }, () => b.next()));
    expect(first.every((v) => v >= 0 && v < 1)).to.equal(true);
    expect(createPrng(43).next()).to.not.equal(first[0]);
    expect(shuffle([1, 2, 3, 4, 5, 6], createPrng(1)).sort()).to.deep.equal([1, 2, 3, 4, 5, 6]);
  });

  it("splits every class in the same proportion", () => {
    const labels = [...new Array(50).fill(0), ...new Array(50).fill(1), ...new Array(20).fill(2)];
    const { train, test } = stratifiedSplit(labels, 0.3, createPrng(3));
    expect(test.filter((i) => labels[i] === 0)).to.have.length(15);
    expect(test.filter((i) => labels[i] === 2)).to.have.length(6);
    expect([...train, ...test].sort((a, b) => a - b)).to.deep.equal(labels.map((_, i) => i));
  });

  it("standardises to zero mean and unit deviation", () => {
    const rows = [
      [1, 10],
      [3, 10],
      [5, 10],
    ];
    const scaling = fitStandardisation(rows);
    expect(scaling.mean).to.deep.equal([3, 10]);
    expect(scaling.std[1]).to.equal(1); // constant feature
    const z = standardise(rows, scaling);
    assertClose(
      z.map((r) => r[0]!).reduce((a, b) => a + b),
      0,
      1e-12,
    );
  });

  it("backpropagation matches finite differences", () => {
    const mlp = initMlp([3, 4, 3], createPrng(5));
    mlp.layers[0]!.bias.set([0.1, -0.2, 0.3, 0.05]);
    const features = [
      [0.5, -1, 2],
      [1.5, 0.3, -0.7],
      [-0.2, 0.9, 0.4],
    ];
    const labels = [0, 2, 1];
    const { layers } = lossAndGradients(mlp, features, labels);
    const h = 1e-6;
    const loss = (m: Mlp) => lossAndGradients(m, features, labels).loss;
    for (const [l, field] of [
      [0, "weights"],
      [0, "bias"],
      [1, "weights"],
      [1, "bias"],
    ] as const) {
      const values = mlp.layers[l]![field];
      for (let i = 0; i < values.length; i++) {
        const plus = structuredClone(mlp);
        plus.layers[l]![field][i]! += h;
        const minus = structuredClone(mlp);
        minus.layers[l]![field][i]! -= h;
        const numeric = (loss(plus) - loss(minus)) / (2 * h);
        assertClose(layers[l]![field][i]!, numeric, 1e-6);
      }
    }
  });

  it("gradient descent lowers the loss and is deterministic", () => {
    const features = [
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ];
    const labels = [0, 1, 1, 0]; // xor
    const parameters = { features, labels, sizes: [2, 8, 2], epochs: 400, learningRate: 0.5, seed: 9 };
    const a = trainMlp(parameters);
    const b = trainMlp(parameters);
    expect(a.finalLoss).to.be.lessThan(a.initialLoss / 4);
    expect(a.mlp).to.deep.equal(b.mlp);
    const step = applyGradients(a.mlp, lossAndGradients(a.mlp, features, labels), 0.5);
    expect(step).to.not.equal(a.mlp); // pure: a new object
  });

  it("folding standardisation into the first layer gives the same logits on raw inputs", () => {
    const mlp = initMlp([3, 5, 2], createPrng(8));
    const scaling = { mean: [5, -2, 100], std: [0.5, 3, 20] };
    const folded = foldStandardisation(mlp, scaling.mean, scaling.std);
    const raw = [5.7, 1, 80];
    const expected = forward(mlp, standardise([raw], scaling)[0]!);
    Array.from(forward(folded, raw)).forEach((v, k) => assertClose(v, expected[k]!, 1e-12));
  });

  it("softmax and accuracy", () => {
    const p = softmax([1000, 1000, 1000 + Math.log(2)]);
    expect(Array.from(p).map((v) => v.toFixed(6))).to.deep.equal(["0.250000", "0.250000", "0.500000"]);
    expect(accuracy([0, 1, 2, 2], [0, 1, 1, 2])).to.equal(0.75);
  });
});
