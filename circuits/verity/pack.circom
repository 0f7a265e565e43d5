pragma circom 2.0.0;

include "bits.circom";

// Public-signal packing of int8 tensors (docs/zk.md#packing): the elements in row-major order,
// each as the unsigned byte v + 128, cut into chunks of 31 bytes; chunk k is the big-endian
// integer of its bytes (the last chunk may be shorter). 31 bytes = 248 bits < log2(p), so a
// packed value is always a canonical field element.

// Splits the packed field elements into N int8 values, constraining each packed element to be
// exactly the big-endian integer of its bytes (Num2Bits over 8 * chunk length <= 248 bits).
template UnpackInt8(N) {
    var CHUNKS = (N + 30) \ 31;
    signal input packed[CHUNKS];
    signal output out[N];
    component bits[CHUNKS];
    for (var k = 0; k < CHUNKS; k++) {
        var len = N - 31 * k < 31 ? N - 31 * k : 31;
        bits[k] = Num2Bits(8 * len);
        bits[k].in <== packed[k];
        for (var i = 0; i < len; i++) {
            // byte i of the chunk is its (len - 1 - i)-th least significant byte
            var byte = 0;
            for (var b = 0; b < 8; b++) byte += bits[k].out[8 * (len - 1 - i) + b] * (1 << b);
            out[31 * k + i] <== byte - 128;
        }
    }
}

// Packs N int8 values the same way. The caller guarantees -128 <= in[i] <= 127 (they come from
// clamped requantisations or unpacked inputs), so each chunk's sum has no carries.
template PackInt8(N) {
    var CHUNKS = (N + 30) \ 31;
    signal input in[N];
    signal output packed[CHUNKS];
    for (var k = 0; k < CHUNKS; k++) {
        var len = N - 31 * k < 31 ? N - 31 * k : 31;
        var sum = 0;
        for (var i = 0; i < len; i++) sum += (in[31 * k + i] + 128) * (1 << (8 * (len - 1 - i)));
        packed[k] <== sum;
    }
}
