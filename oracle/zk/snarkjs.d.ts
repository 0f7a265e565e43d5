// Minimal types for the parts of snarkjs 0.7 (untyped ESM) that oracle/zk uses.
declare module "snarkjs" {
  export type Groth16Proof = {
    pi_a: string[];
    pi_b: string[][];
    pi_c: string[];
    protocol: string;
    curve: string;
  };
  export type PublicSignals = string[];
  /** A path, or an in-memory file. */
  export type FileLike = string | { type: "mem"; data: Uint8Array };
  export type Logger = {
    debug: (message: string) => void;
    info: (message: string) => void;
    warn: (message: string) => void;
    error: (message: string) => void;
  };
  export const groth16: {
    fullProve(
      input: Record<string, unknown>,
      wasm: FileLike,
      zkey: FileLike,
      logger?: Logger,
      wtnsCalcOptions?: Record<string, unknown>,
      proverOptions?: { singleThread?: boolean },
    ): Promise<{ proof: Groth16Proof; publicSignals: PublicSignals }>;
    prove(
      zkey: FileLike,
      witness: FileLike,
      logger?: Logger,
    ): Promise<{ proof: Groth16Proof; publicSignals: PublicSignals }>;
    verify(vkey: unknown, publicSignals: PublicSignals, proof: Groth16Proof, logger?: Logger): Promise<boolean>;
  };
  export const powersOfTau: {
    newAccumulator(curve: unknown, power: number, fileName: string, logger?: Logger): Promise<unknown>;
    contribute(oldPtau: string, newPtau: string, name: string, entropy: string, logger?: Logger): Promise<unknown>;
    preparePhase2(oldPtau: string, newPtau: string, logger?: Logger): Promise<unknown>;
  };
  export const zKey: {
    newZKey(r1cs: string, ptau: string, zkey: FileLike, logger?: Logger): Promise<unknown>;
    contribute(oldZkey: string, newZkey: string, name: string, entropy: string, logger?: Logger): Promise<unknown>;
    exportVerificationKey(zkey: FileLike, logger?: Logger): Promise<Record<string, unknown>>;
    exportSolidityVerifier(zkey: FileLike, templates: Record<string, string>, logger?: Logger): Promise<string>;
    verifyFromR1cs(r1cs: string, ptau: string, zkey: string, logger?: Logger): Promise<boolean>;
  };
  export const wtns: {
    calculate(input: Record<string, unknown>, wasm: FileLike, wtns: FileLike): Promise<void>;
    check(r1cs: string, wtns: string, logger?: Logger): Promise<boolean>;
    exportJson(wtns: FileLike): Promise<bigint[]>;
  };
  export const r1cs: {
    exportJson(r1cs: string, logger?: Logger): Promise<unknown>;
    info(
      r1cs: string,
      logger?: Logger,
    ): Promise<{ nConstraints: number; nVars: number; nOutputs: number; nPubInputs: number; nPrvInputs: number }>;
  };
  export const curves: {
    getCurveFromName(name: string): Promise<{ terminate(): Promise<void>; G1: unknown }>;
  };
}
