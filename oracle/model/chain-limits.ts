/**
 * The limits contracts/ModelRegistry.sol puts on a model, as its public constants: one definition
 * in TypeScript, compared with the deployed registry in test/model/chain-limits.test.ts so the two
 * cannot drift apart. The compiler, the VQM validation and the tensor codec read them from here;
 * `chain-limit-violation.ts` says which one a model breaks.
 *
 * No imports: `tensor.ts` reads the format limits from this module.
 */

/** `ModelRegistry.MAX_RANK`: most dims of a tensor (the canonical format's rank byte, 1..8). */
export const MAX_RANK = 8;
/** `ModelRegistry.MAX_ELEMENTS`: most elements of a tensor (the canonical format's limit). */
export const MAX_ELEMENTS = 2 ** 24;
/** `ModelRegistry.MAX_LAYERS`: most layers of an Optimistic model (the game compares layer roots in one loop). */
export const MAX_LAYERS = 1024;
/** `ModelRegistry.MAX_INPUT_BYTES`: longest canonical input of a Zk or Optimistic model (inputs travel inline). */
export const MAX_INPUT_BYTES = 32_768;
/** `ModelRegistry.MAX_OUTPUT_BYTES`: longest canonical output of a Zk or Optimistic model (stored and checked whole). */
export const MAX_OUTPUT_BYTES = 4096;
