pragma circom 2.0.0;

include "requant.circom";

// A dense layer with its parameters compiled in as constants: y[j] = requant(B[j] +
// sum_i W[j][i] * x[i], M[j], S[j], LO). The dot product is a linear combination of the input
// signals with constant coefficients, so it costs no constraint; each output costs one
// Requant. QBITS[j] bounds output j's quotient (see requant.circom). The inputs must be int8
// (range-checked by the caller) so that |acc| <= B[j] + 128 * sum |W[j]|.
template Dense(IN, OUT, W, B, M, S, LO, QBITS) {
    signal input in[IN];
    signal output out[OUT];
    component rq[OUT];
    for (var j = 0; j < OUT; j++) {
        var acc = B[j];
        for (var i = 0; i < IN; i++) acc += W[j][i] * in[i];
        rq[j] = Requant(M[j], S[j], LO, QBITS[j]);
        rq[j].acc <== acc;
        out[j] <== rq[j].out;
    }
}
