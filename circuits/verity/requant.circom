pragma circom 2.0.0;

include "bits.circom";

// requant(acc, M, S, act) = clamp(roundShift(acc * M, S), LO, 127) of docs/numeric-semantics.md,
// with LO = 0 for a fused ReLU and -128 otherwise.
//
// The caller guarantees |acc| <= B (B = |b| + 128 * sum |W|, from range-checked int8 inputs
// and constant weights) with B * M + 2^(S-1) < 2^62 (bound 2). QBITS is chosen by the
// generator so that every honest quotient q lies in [-2^QBITS, 2^QBITS), and QBITS >= 8.
//
// Constraints:
//   acc * M + 2^(S-1) === q * 2^S + r            (one linear equation in the field)
//   0 <= r < 2^S                                 (Num2Bits(S))
//   -2^QBITS <= q < 2^QBITS                      (Num2Bits(QBITS + 1) of q + 2^QBITS)
// Both sides of the equation are below 2^(QBITS + S + 1) + 2^62 < p / 2 in absolute value, so
// equality mod p is equality of integers, and with 0 <= r < 2^S it forces q = floor((acc * M +
// 2^(S-1)) / 2^S) = roundShift(acc * M, S): the quotient and remainder are unique.
// The clamp compares the range-checked q + 2^QBITS with the constants LO + 2^QBITS and
// 128 + 2^QBITS, all below 2^(QBITS + 1), over QBITS + 1 bits.
template Requant(M, S, LO, QBITS) {
    assert(S >= 0 && S <= 62);
    assert(M >= 0 && M < 2147483648);
    assert(LO == 0 || LO == -128);
    assert(QBITS >= 8 && QBITS + S <= 200);
    signal input acc;
    signal output out;

    signal q;
    var offset = 1 << QBITS;
    if (S == 0) {
        q <== acc * M;
    } else {
        signal r;
        var half = 1 << (S - 1);
        // Hints computed on the integer value of acc * M + half, which is negative when acc < 0:
        // shift it by 2^(QBITS + S) (a multiple of 2^S) to work on a non-negative number.
        var shifted = acc * M + half + (offset << S);
        q <-- (shifted >> S) - offset;
        r <-- shifted & ((1 << S) - 1);
        component rBits = Num2Bits(S);
        rBits.in <== r;
        acc * M + half === q * (1 << S) + r;
    }
    component qBits = Num2Bits(QBITS + 1);
    qBits.in <== q + offset;

    // below = q < LO, above = q >= 128; they never hold together (LO <= 0).
    component below = LessThan(QBITS + 1);
    below.in[0] <== q + offset;
    below.in[1] <== LO + offset;
    component above = LessThan(QBITS + 1);
    above.in[0] <== 127 + offset;
    above.in[1] <== q + offset;

    signal toLo <== below.out * (LO - q);
    signal toHi <== above.out * (127 - q);
    out <== q + toLo + toHi;
}
