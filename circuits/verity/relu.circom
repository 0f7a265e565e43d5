pragma circom 2.0.0;

include "bits.circom";

// y = max(x, 0) for an int8 x (-128 <= x <= 127 guaranteed by the caller): x + 128 and 128 are
// below 2^8, so LessThan(8) is exact.
template ReluInt8() {
    signal input in;
    signal output out;
    component negative = LessThan(8);
    negative.in[0] <== in + 128;
    negative.in[1] <== 128;
    out <== (1 - negative.out) * in;
}
