/**
 * Builds an ONNX ModelProto from a plain graph description and serialises it. The bytes are a
 * pure function of the description: protobufjs writes fields in field-number order, we write
 * attributes and metadata sorted by name, and initializers as little-endian raw_data. So the
 * same weights always give the same modelHash.
 */
import { assertTensor, dtypes, InvalidTensorError, toLittleEndianBytes } from "../tensor.ts";
import { onnxDataTypeOf, OnnxWriteError } from "./onnx-model.ts";
import type { OnnxAttribute, OnnxGraph, OnnxModel, OnnxValueInfo } from "./onnx-model.ts";
import { AttributeType, ModelProto } from "./onnx-schema.ts";
import type { IAttributeProto, IModelProto, IValueInfoProto } from "./onnx-schema.ts";

export type WriteOnnxParameters = {
  graph: OnnxGraph;
  /** Defaults to 8 (the IR of onnx 1.10, which our schema and onnxruntime both read). */
  irVersion?: number;
  /** Default-domain opset; defaults to 17. */
  opsetVersion?: number;
  /** Defaults to "verity". */
  producerName?: string;
  /** Defaults to "" (left out), so the bytes do not change with our own version. */
  producerVersion?: string;
  docString?: string;
  metadata?: Record<string, string>;
};

export function writeOnnx(parameters: WriteOnnxParameters): Uint8Array {
  return ModelProto.encode(buildModelProto(parameters)).finish();
}

/** The ModelProto as a plain object (before protobuf encoding); checks the graph first. */
export function buildModelProto({
  graph,
  irVersion = 8,
  opsetVersion = 17,
  producerName = "verity",
  producerVersion = "",
  docString = "",
  metadata = {},
}: WriteOnnxParameters): IModelProto {
  validateGraph(graph);
  const model: IModelProto = {
    irVersion,
    producerName,
    graph: {
      name: graph.name,
      node: graph.nodes.map((node) => ({
        name: node.name,
        opType: node.opType,
        input: [...node.inputs],
        output: [...node.outputs],
        attribute: Object.keys(node.attributes ?? {})
          .sort()
          .map((name) => attributeProto(name, node.attributes![name]!, node.name)),
        ...(node.domain ? { domain: node.domain } : {}),
      })),
      initializer: graph.initializers.map(({ name, tensor }) => ({
        name,
        dims: [...tensor.shape],
        dataType: onnxDataTypeOf[tensor.dtype],
        rawData: Uint8Array.from(toLittleEndianBytes(tensor.data)),
      })),
      input: graph.inputs.map(valueInfoProto),
      output: graph.outputs.map(valueInfoProto),
    },
    opsetImport: [{ domain: "", version: opsetVersion }],
  };
  if (producerVersion) model.producerVersion = producerVersion;
  if (docString) model.docString = docString;
  const keys = Object.keys(metadata).sort();
  if (keys.length > 0) model.metadataProps = keys.map((key) => ({ key, value: metadata[key]! }));
  return model;
}

/** What `readOnnx` returns for these parameters: the description with defaults applied. */
export function onnxModelOf(parameters: WriteOnnxParameters): OnnxModel {
  return {
    irVersion: parameters.irVersion ?? 8,
    opsetVersion: parameters.opsetVersion ?? 17,
    producerName: parameters.producerName ?? "verity",
    producerVersion: parameters.producerVersion ?? "",
    docString: parameters.docString ?? "",
    metadata: { ...parameters.metadata },
    graph: parameters.graph,
  };
}

function valueInfoProto({ name, dtype, shape }: OnnxValueInfo): IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnxDataTypeOf[dtype],
        shape: { dim: shape.map((dim) => (typeof dim === "number" ? { dimValue: dim } : { dimParam: dim })) },
      },
    },
  };
}

function attributeProto(name: string, attribute: OnnxAttribute, node: string): IAttributeProto {
  const fail = (why: string) =>
    new OnnxWriteError(`Invalid attribute "${name}" of node "${node}".`, { details: [why] });
  switch (attribute.type) {
    case "int":
      if (!Number.isSafeInteger(attribute.value)) throw fail(`Expected an integer, got ${attribute.value}.`);
      return { name, type: AttributeType.INT, i: attribute.value };
    case "float":
      return { name, type: AttributeType.FLOAT, f: attribute.value };
    case "string":
      return { name, type: AttributeType.STRING, s: new TextEncoder().encode(attribute.value) };
    case "ints":
      if (!attribute.value.every(Number.isSafeInteger)) throw fail("Expected integers.");
      return { name, type: AttributeType.INTS, ints: [...attribute.value] };
    case "floats":
      return { name, type: AttributeType.FLOATS, floats: [...attribute.value] };
    default:
      throw fail(`Unknown attribute type "${(attribute as { type: unknown }).type}".`);
  }
}

/**
 * Checks what onnxruntime would otherwise report obscurely: names are unique, every node input
 * exists before the node (nodes in topological order), every graph output is produced, and
 * every initializer is a well-formed tensor.
 */
export function validateGraph(graph: OnnxGraph): void {
  const defined = new Set<string>();
  const define = (name: string, what: string) => {
    if (!name) throw new OnnxWriteError(`A ${what} has an empty name.`);
    if (defined.has(name))
      throw new OnnxWriteError(`Name "${name}" is defined twice.`, { details: [`Again as ${what}.`] });
    defined.add(name);
  };
  for (const input of graph.inputs) {
    if (!Object.hasOwn(dtypes, input.dtype))
      throw new OnnxWriteError(`Graph input "${input.name}" has unknown dtype "${input.dtype}".`);
    define(input.name, "graph input");
  }
  for (const { name, tensor } of graph.initializers) {
    try {
      assertTensor(tensor);
    } catch (error) {
      if (!(error instanceof InvalidTensorError)) throw error;
      throw new OnnxWriteError(`Initializer "${name}" is not a valid tensor.`, {
        details: [error.shortMessage, ...error.details],
        cause: error,
      });
    }
    define(name, "initializer");
  }
  for (const node of graph.nodes) {
    for (const input of node.inputs)
      if (input !== "" && !defined.has(input))
        throw new OnnxWriteError(`Node "${node.name}" reads "${input}", which is not defined before it.`, {
          details: ["Inputs must be graph inputs, initializers or outputs of earlier nodes."],
        });
    for (const output of node.outputs) define(output, `output of node "${node.name}"`);
  }
  for (const output of graph.outputs) {
    if (!defined.has(output.name))
      throw new OnnxWriteError(`Graph output "${output.name}" is not produced by any node.`);
    if (!Object.hasOwn(dtypes, output.dtype))
      throw new OnnxWriteError(`Graph output "${output.name}" has unknown dtype "${output.dtype}".`);
  }
}
