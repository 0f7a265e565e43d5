/**
 * The bounds of one step of contracts/dispute/LayerStepProver.sol (and the OneStepExecutor
 * library it uses), which the dispute player mirrors to choose between a whole-element step and
 * the reduction phase, and to cut the reduction into the ranges the prover accepts. The public
 * ones are compared with the deployed prover in test/dispute/LayerStepProver.test.ts (and the
 * internal ones through `sumLayout`), so the two cannot drift apart unnoticed.
 */

/** `LayerStepProver.MAX_FAN_IN`: most multiply-adds (dense), row (argmax) or window (maxpool2d) elements of a whole-element step. */
export const MAX_FAN_IN = 16384;
/** `OneStepExecutor.MAX_CONV_STEP`: most fan-in of a whole conv2d step, and of one conv2d reduction range. */
export const MAX_CONV_STEP = 1024;
/** `OneStepExecutor.MAX_STEP`: most fan-in elements of one dense reduction range. */
export const MAX_STEP = 16384;
/** `LayerStepProver.MAX_CHUNKS`: most chunks in one proof (more: `StepTooManyChunks`). */
export const MAX_CHUNKS = 40;
/** `LayerStepProver.INPUT_CHUNKS`: most input chunks one conv2d, argmax or maxpool2d range may read. */
export const INPUT_CHUNKS = 16;
/** `LayerStepProver.MAX_MAX_STEP`: most elements of one argmax or maxpool2d range. */
export const MAX_MAX_STEP = 8192;
/** `LayerStepProver.MAX_STEP_ROWS`: most kernel or window rows one conv2d or maxpool2d step reads. */
export const MAX_STEP_ROWS = 256;
