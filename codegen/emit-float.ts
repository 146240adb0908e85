/**
 * The same network in plain float C (weights in ROM, libm's tanhf): the
 * baseline the fixed-point policy is measured against — its flash in the
 * tests, its cycles in `npm run bench -- cycles`. A straightforward
 * hand-written forward pass, as a user would write it; nothing here is used
 * by the deployed policy.
 */
import { cFloatArray, fillTemplate } from './c-literals.js';
import { stampLines, type EmittedFiles } from './emit-c.js';
import { modelHash, type PolicyModel } from '../trainer/index.js';

const ACT: Record<string, string> = { tanh: 'tanhf(s)', relu: 's > 0.0f ? s : 0.0f', hardtanh: 's > 1.0f ? 1.0f : s < -1.0f ? -1.0f : s', linear: 's' };

const TEMPLATE = `/*
 * ultro_float_policy.c: @@STAMP@@
 */
#include <math.h>
#include <stdint.h>
#include "ultro_rom.h"
#include "ultro_float_policy.h"

/*@@TABLES@@*/

static void layer(const float *W, const float *B, uint8_t nin, uint8_t nout, const float *in, float *out, uint8_t hidden) {
  uint8_t i, j;
  for (i = 0; i < nout; i++) {
    float s = ULTRO_RD_F32(&B[i]);
    for (j = 0; j < nin; j++) s += ULTRO_RD_F32(&W[i * nin + j]) * in[j];
    out[i] = hidden ? (/*@@ACT@@*/) : s;
  }
}

void ultro_float_policy(const float *x, float *u) {
  float a[/*@@WIDTH@@*/], b[/*@@WIDTH@@*/];
  uint8_t i;
  for (i = 0; i < /*@@NX@@*/; i++) {
    float v = x[i], lo = ULTRO_RD_F32(&FD_MIN[i]), hi = ULTRO_RD_F32(&FD_MAX[i]);
    if (!(v >= lo)) v = lo;
    if (v > hi) v = hi;
    a[i] = (v - ULTRO_RD_F32(&FIN_OFF[i])) / ULTRO_RD_F32(&FIN_SCALE[i]);
  }
/*@@CALLS@@*/
  for (i = 0; i < /*@@NU@@*/; i++) {
    float v = ULTRO_RD_F32(&FOUT_OFF[i]) + ULTRO_RD_F32(&FOUT_SCALE[i]) * /*@@LAST@@*/[i];
    float lo = ULTRO_RD_F32(&FU_MIN[i]), hi = ULTRO_RD_F32(&FU_MAX[i]);
    u[i] = v < lo ? lo : v > hi ? hi : v;
  }
}
`;

export function emitFloatPolicy(model: PolicyModel): EmittedFiles {
  const L = model.network.layers;
  const sizes = model.network.sizes;
  const width = Math.max(...sizes);
  const tables: string[] = [];
  L.forEach((layer, l) => {
    tables.push(cFloatArray(`FW${l}`, layer.W.flat()));
    tables.push(cFloatArray(`FB${l}`, layer.b));
  });
  tables.push(cFloatArray('FD_MIN', model.input.domain.min), cFloatArray('FD_MAX', model.input.domain.max));
  tables.push(cFloatArray('FIN_OFF', model.input.offset), cFloatArray('FIN_SCALE', model.input.scale));
  tables.push(cFloatArray('FOUT_OFF', model.output.offset), cFloatArray('FOUT_SCALE', model.output.scale));
  tables.push(cFloatArray('FU_MIN', model.output.bounds.min), cFloatArray('FU_MAX', model.output.bounds.max));
  const bufs = ['a', 'b'];
  const calls = L.map((_, l) => `  layer(FW${l}, FB${l}, ${sizes[l]}, ${sizes[l + 1]}, ${bufs[l % 2]}, ${bufs[(l + 1) % 2]}, ${l < L.length - 1 ? 1 : 0});`);
  const stamp = stampLines({ modelHash: modelHash(model) }, 'float C baseline of the policy network').join('\n * ');
  const c = fillTemplate(
    TEMPLATE,
    {
      STAMP: stamp,
      TABLES: tables.join('\n\n'),
      ACT: ACT[model.network.activation],
      WIDTH: String(width),
      NX: String(sizes[0]),
      NU: String(sizes[sizes.length - 1]),
      CALLS: calls.join('\n'),
      LAST: bufs[L.length % 2],
    },
    'ultro_float_policy.c',
  );
  const h = '#ifndef ULTRO_FLOAT_POLICY_H\n#define ULTRO_FLOAT_POLICY_H\nvoid ultro_float_policy(const float *x, float *u);\n#endif\n';
  return { 'ultro_float_policy.c': c, 'ultro_float_policy.h': h };
}
