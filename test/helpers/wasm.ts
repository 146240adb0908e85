import wabtInit from 'wabt';
import { syrkWat } from '../../trainer/wasm/syrk-wat.js';

/** The SYRK kernel's text assembled by wabt (deterministic): what syrk-module.ts must hold. */
export async function assembleSyrk(): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const mod = wabt.parseWat('syrk.wat', syrkWat(), { simd: true });
  try {
    mod.validate();
    return Uint8Array.from(mod.toBinary({}).buffer);
  } finally {
    mod.destroy();
  }
}
