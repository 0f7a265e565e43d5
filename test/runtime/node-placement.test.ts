/**
 * onnxruntime's node placement, read from its verbose log: the parser on the two forms
 * onnxruntime 1.30 prints (session_state.cc), and the real probe on this machine (CPU only):
 * every node of the iris models on CPUExecutionProvider, named from the optimized graph, and a
 * CUDA request answered with the loader's exact reason and the CPU fallback.
 */
import { readFileSync } from "node:fs";
import { expect } from "chai";
import { parseSessionLog } from "../../oracle/runtime/node-placement.ts";
import { probePlacement } from "../../oracle/runtime/probe-placement.ts";
import { integerGraphPinnedReason } from "../../oracle/runtime/integer-graph.ts";

const model = (file: string) => new Uint8Array(readFileSync(new URL(`../../models/iris/${file}`, import.meta.url)));
const prefix = "2026-12-02 04:01:17.012112280 [V:onnxruntime:, session_state.cc:1380 VerifyEachNodeIsAssignedToAnEp]";

describe("node placement from onnxruntime's verbose log", function () {
  this.timeout(60_000);

  it("reads one provider with all nodes (count only) and several providers with their nodes", () => {
    const all = parseSessionLog(
      [`${prefix} Node placements`, `${prefix}  All nodes placed on [CPUExecutionProvider]. Number of nodes: 30`].join(
        "\n",
      ),
    );
    expect(all.placements).to.deep.equal([{ provider: "CPUExecutionProvider", count: 30, nodes: undefined }]);

    const split = parseSessionLog(
      [
        `${prefix} Node placements`,
        `${prefix}  Node(s) placed on [CUDAExecutionProvider]. Number of nodes: 2`,
        `${prefix}   Add (l0_addbias)`,
        `${prefix}   Mul (l0_mul)`,
        `${prefix}  Node(s) placed on [CPUExecutionProvider]. Number of nodes: 1`,
        `${prefix}   MatMulInteger (l0_matmul)`,
        "\u001b[0;93m2026-12-02 04:01:17.0126 [W:onnxruntime:, session_state.cc:1404 VerifyEachNodeIsAssignedToAnEp] Some nodes were not assigned to the preferred execution providers\u001b[m",
      ].join("\n"),
    );
    expect(split.placements).to.deep.equal([
      {
        provider: "CUDAExecutionProvider",
        count: 2,
        nodes: [
          { opType: "Add", name: "l0_addbias" },
          { opType: "Mul", name: "l0_mul" },
        ],
      },
      { provider: "CPUExecutionProvider", count: 1, nodes: [{ opType: "MatMulInteger", name: "l0_matmul" }] },
    ]);
    expect(split.errors).to.deep.equal([]);
  });

  it("keeps the loader's reason from an error line", () => {
    const log = parseSessionLog(
      "\u001b[1;31m2026-12-02 04:01:22.87 [E:onnxruntime:onnxruntime-node, provider_bridge_ort.cc:2146 Create] /onnxruntime_src/onnxruntime/core/session/provider_bridge_ort.cc:1988 onnxruntime::Provider& onnxruntime::ProviderLibrary::Get() [ONNXRuntimeError] : 1 : FAIL : Failed to load library libonnxruntime_providers_cuda.so with error: libcudnn.so.9: cannot open shared object file: No such file or directory\n\u001b[m",
    );
    expect(log.errors).to.deep.equal([
      "Failed to load library libonnxruntime_providers_cuda.so with error: libcudnn.so.9: cannot open shared object file: No such file or directory",
    ]);
  });

  it("probes the real iris models on the CPU provider, every node named", async () => {
    const float = await probePlacement({ model: model("iris.onnx"), executionProvider: "cpu" });
    expect(float.provider).to.equal("cpu");
    expect(float.placements).to.deep.equal([
      {
        provider: "CPUExecutionProvider",
        count: 2,
        nodes: [
          { opType: "FusedGemm", name: "fused fc1" }, // Gemm + Relu fused by onnxruntime's level-2 optimizer
          { opType: "Gemm", name: "fc2" },
        ],
      },
    ]);
    const integer = await probePlacement({ model: model("vqm/model.onnx"), executionProvider: "cuda" });
    expect(integer.provider).to.equal("cpu");
    expect(integer.fallbacks).to.deep.equal([integerGraphPinnedReason]);
    const [cpu] = integer.placements;
    expect(integer.placements).to.have.length(1);
    expect(cpu!.provider).to.equal("CPUExecutionProvider");
    expect(cpu!.nodes).to.have.length(cpu!.count);
    expect(cpu!.nodes!.map((node) => node.opType)).to.include("MatMulInteger");
  });

  it("answers a CUDA request on this machine with the loader's reason and the CPU fallback", async () => {
    const probe = await probePlacement({ model: model("iris.onnx"), executionProvider: "cuda" });
    expect(probe.requested).to.equal("cuda");
    expect(probe.provider).to.equal("cpu");
    expect(probe.fallbacks[0]).to.match(/^CUDA provider unavailable/);
    expect(probe.errors.join("\n")).to.match(/Failed to load library \S*libonnxruntime_providers_shared\.so/);
    expect(probe.placements[0]!.provider).to.equal("CPUExecutionProvider");
  });
});
