pragma circom 2.0.0;

// Bit decomposition and comparison for Verity circuits (MIT, written for this project rather
// than taken from circomlib, which is GPL-3.0). Every hint (`<--`) is followed by the
// constraints that pin it down.

// out[i] are the n bits of `in`, least significant first. Constrains 0 <= in < 2^n.
// n <= 252 so that 2^n < p: the decomposition is then unique and no value wraps around.
template Num2Bits(n) {
    assert(n >= 1 && n <= 252);
    signal input in;
    signal output out[n];
    var sum = 0;
    var weight = 1;
    for (var i = 0; i < n; i++) {
        out[i] <-- (in >> i) & 1;
        out[i] * (out[i] - 1) === 0;
        sum += out[i] * weight;
        weight += weight;
    }
    sum === in;
}

// out = 1 if in[0] < in[1], else 0. The CALLER must guarantee 0 <= in[0], in[1] < 2^n
// (the templates below range-check both operands or pass constants that fit).
// in[0] + 2^n - in[1] then lies in (0, 2^(n+1)), and its bit n is 1 exactly when in[0] >= in[1].
template LessThan(n) {
    assert(n >= 1 && n <= 251);
    signal input in[2];
    signal output out;
    component bits = Num2Bits(n + 1);
    bits.in <== in[0] + (1 << n) - in[1];
    out <== 1 - bits.out[n];
}
