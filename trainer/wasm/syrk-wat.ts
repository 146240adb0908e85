/**
 * Source of the WebAssembly SYRK kernel, as WebAssembly text: C += α X Xᵀ on
 * the lower triangle, with f64x2 (SIMD) arithmetic along the rows of X.
 *
 * Each 4×2 block of C keeps eight f64x2 accumulators and loads six vectors
 * per step of two columns: 16 multiply-adds per 6 loads, within the 16
 * vector registers of x86-64 and AArch64 (a 4×4 block would spill). The sums
 * of each accumulator's two lanes are added at the end, so the order of
 * summation differs from the scalar kernel's (kernels.ts) by rounding only.
 * Rows left over when n is not a multiple of 4 use one SIMD dot product per
 * entry.
 *
 * Contract (the caller, panel-syrk.ts, keeps it): len even, X's base and
 * row stride (ldx) 16-byte aligned; offsets are in bytes, strides in doubles.
 *
 * `scripts/build-wasm.ts` assembles this text with wabt into syrk-module.ts;
 * a test checks that the two agree.
 */
export function syrkWat(): string {
  const I = 4,
    J = 2;
  const acc: string[] = [];
  for (let a = 0; a < I; a++) for (let b = 0; b < J; b++) acc.push(`$s${a}${b}`);
  const step: string[] = [];
  for (let a = 0; a < I; a++) for (let b = 0; b < J; b++) step.push(`          (local.set $s${a}${b} (f64x2.add (local.get $s${a}${b}) (f64x2.mul (local.get $a${a}) (local.get $b${b}))))`);
  const store: string[] = [];
  for (let a = 0; a < I; a++)
    for (let b = 0; b < J; b++)
      store.push(`        (if (i32.le_s (i32.add (local.get $j) (i32.const ${b})) (i32.add (local.get $i) (i32.const ${a}))) (then
          (local.set $p (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (i32.add (local.get $i) (i32.const ${a})) (local.get $ldc)) (i32.add (local.get $j) (i32.const ${b}))) (i32.const 3))))
          (f64.store (local.get $p) (f64.add (f64.load (local.get $p)) (f64.mul (local.get $alpha) (f64.add (f64x2.extract_lane 0 (local.get $s${a}${b})) (f64x2.extract_lane 1 (local.get $s${a}${b}))))))))`);
  return `(module
  (import "env" "memory" (memory 1))
  ;; Σ_r a[r]·b[r] for r < len (len even; a, b 16-byte aligned byte offsets)
  (func $dot (param $a i32) (param $b i32) (param $len i32) (result f64)
    (local $acc v128) (local $end i32)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $len) (i32.const 3))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (local.set $acc (f64x2.add (local.get $acc) (f64x2.mul (v128.load (local.get $a)) (v128.load (local.get $b)))))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $b (i32.add (local.get $b) (i32.const 16)))
      (br $l)))
    (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))
  ;; C[i·ldc + j] += α Σ_{r<len} X[i·ldx + r] X[j·ldx + r] for 0 ≤ j ≤ i < n; C at byte offset c, X at x
  (func (export "syrkLower") (param $c i32) (param $ldc i32) (param $n i32) (param $x i32) (param $ldx i32) (param $len i32) (param $alpha f64)
    (local $i i32) (local $j i32) (local $off i32) (local $end i32) (local $rowB i32) (local $p i32)
    (local $xi0 i32) (local $xi1 i32) (local $xi2 i32) (local $xi3 i32) (local $xj0 i32) (local $xj1 i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $b0 v128) (local $b1 v128)
    ${acc.map((s) => `(local ${s} v128)`).join(' ')}
    (local.set $rowB (i32.shl (local.get $ldx) (i32.const 3)))
    (local.set $end (i32.shl (local.get $len) (i32.const 3)))
    (block $iDone (loop $iLoop
      (br_if $iDone (i32.gt_s (i32.add (local.get $i) (i32.const 4)) (local.get $n)))
      (local.set $xi0 (i32.add (local.get $x) (i32.mul (local.get $i) (local.get $rowB))))
      (local.set $xi1 (i32.add (local.get $xi0) (local.get $rowB)))
      (local.set $xi2 (i32.add (local.get $xi1) (local.get $rowB)))
      (local.set $xi3 (i32.add (local.get $xi2) (local.get $rowB)))
      (local.set $j (i32.const 0))
      (block $jDone (loop $jLoop
        (br_if $jDone (i32.ge_s (local.get $j) (i32.add (local.get $i) (i32.const 4))))
        (local.set $xj0 (i32.add (local.get $x) (i32.mul (local.get $j) (local.get $rowB))))
        (local.set $xj1 (i32.add (local.get $xj0) (local.get $rowB)))
        ${acc.map((s) => `(local.set ${s} (v128.const i64x2 0 0))`).join(' ')}
        (local.set $off (i32.const 0))
        (block $rDone (loop $rLoop
          (br_if $rDone (i32.ge_u (local.get $off) (local.get $end)))
          (local.set $a0 (v128.load (i32.add (local.get $xi0) (local.get $off))))
          (local.set $a1 (v128.load (i32.add (local.get $xi1) (local.get $off))))
          (local.set $a2 (v128.load (i32.add (local.get $xi2) (local.get $off))))
          (local.set $a3 (v128.load (i32.add (local.get $xi3) (local.get $off))))
          (local.set $b0 (v128.load (i32.add (local.get $xj0) (local.get $off))))
          (local.set $b1 (v128.load (i32.add (local.get $xj1) (local.get $off))))
${step.join('\n')}
          (local.set $off (i32.add (local.get $off) (i32.const 16)))
          (br $rLoop)))
${store.join('\n')}
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (br $jLoop)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $iLoop)))
    ;; the rows left over (n mod 4), one dot product per entry
    (block $tDone (loop $tLoop
      (br_if $tDone (i32.ge_s (local.get $i) (local.get $n)))
      (local.set $j (i32.const 0))
      (block $tjDone (loop $tjLoop
        (br_if $tjDone (i32.gt_s (local.get $j) (local.get $i)))
        (local.set $p (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $ldc)) (local.get $j)) (i32.const 3))))
        (f64.store (local.get $p) (f64.add (f64.load (local.get $p)) (f64.mul (local.get $alpha)
          (call $dot (i32.add (local.get $x) (i32.mul (local.get $i) (local.get $rowB))) (i32.add (local.get $x) (i32.mul (local.get $j) (local.get $rowB))) (local.get $len)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $tjLoop)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $tLoop))))
)
`;
}
