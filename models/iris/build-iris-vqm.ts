/**
 * The verifiable (integer) iris model: iris.onnx quantised with the training split as
 * calibration, and the held-out accuracy of the float and the integer model (the integer one
 * run by the reference executor). Pure; `quantise.ts` writes the artifacts.
 */
import { compareQuantised } from "../../oracle/model/quantise/compare-quantised.ts";
import { compileVqm } from "../../oracle/model/quantise/compile-vqm.ts";
import type { CompileVqmReturnType } from "../../oracle/model/quantise/compile-vqm.ts";
import { accuracy } from "../../oracle/model/train/dataset.ts";
import { buildIris, irisLabels } from "./build-iris.ts";

export type IrisVqmMetadata = {
  name: string;
  /** The command that makes models/iris/vqm/ from the committed files. */
  command: string;
  parameterCount: number;
  heldOut: { samples: number; floatAccuracy: number; intAccuracy: number; top1Agreement: number };
  calibration: { samples: number; top1Agreement: number; maxAbsError: number; meanAbsError: number };
};

export type BuildIrisVqmParameters = {
  features: readonly (readonly number[])[];
  species: readonly string[];
  /** The float model (models/iris/iris.onnx). */
  onnx: Uint8Array;
};

export type BuildIrisVqmReturnType = {
  compiled: CompileVqmReturnType;
  /** The training split's rows: the calibration file's inputs. */
  calibration: number[][];
  metadata: IrisVqmMetadata;
};

export function buildIrisVqm({ features, species, onnx }: BuildIrisVqmParameters): BuildIrisVqmReturnType {
  const { split } = buildIris({ features, species });
  const calibration = split.train.map((i) => [...features[i]!]);
  const compiled = compileVqm({ onnx, calibration, name: "iris-vqm", labels: [...irisLabels] });
  const heldOut = compareQuantised({
    model: compiled.model,
    network: compiled.network,
    inputs: split.test.map((i) => [...features[i]!]),
  });
  const labels = split.test.map((i) => (irisLabels as readonly string[]).indexOf(species[i]!));
  const { agreement } = compiled;
  return {
    compiled,
    calibration,
    metadata: {
      name: compiled.model.name,
      command:
        "verity model compile models/iris/iris.onnx --calibration models/iris/calibration.json --out models/iris --name iris-vqm --labels setosa,versicolor,virginica",
      parameterCount: compiled.parameterCount,
      heldOut: {
        samples: labels.length,
        floatAccuracy: accuracy(heldOut.floatClasses, labels),
        intAccuracy: accuracy(heldOut.intClasses, labels),
        top1Agreement: heldOut.top1Agreement,
      },
      calibration: {
        samples: agreement.samples,
        top1Agreement: agreement.top1Agreement,
        maxAbsError: agreement.maxAbsError!,
        meanAbsError: agreement.meanAbsError!,
      },
    },
  };
}
