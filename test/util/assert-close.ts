import assert from "node:assert/strict";

/**
 * |actual - expected| <= tolerance for plain numbers. Not chai's closeTo: the Hardhat chai
 * matchers replace it with a bigint version that rejects fractions once any contract test has
 * loaded them in the same run.
 */
export function assertClose(actual: number, expected: number, tolerance: number, what = "value"): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: expected ${actual} to be within ${tolerance} of ${expected}`,
  );
}
