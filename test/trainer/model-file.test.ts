import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getPlant, plantToJson } from '../../sim/index.js';
import { MLP, MODEL_FORMAT, layersFromTheta, loadModel, modelFromJson, modelHash, modelTheta, policyFunction, saveModel, type PolicyModel } from '../../trainer/index.js';

export function handMadeModel(seed = 1, sizes = [2, 8, 8, 1]): PolicyModel {
  const plant = getPlant('double-integrator');
  const mlp = new MLP({ sizes, activation: 'tanh' });
  return {
    format: MODEL_FORMAT,
    network: { sizes, activation: 'tanh', layers: layersFromTheta(sizes, mlp.init(seed)) },
    input: { names: plant.stateNames, domain: { min: [-5, -2], max: [5, 2] }, offset: [0, 0], scale: [5, 2] },
    output: { names: plant.inputNames, offset: [0], scale: [1], bounds: { min: [-1], max: [1] } },
    plant: plantToJson(plant),
  };
}

describe('model files', () => {
  it('round-trips through save/load with the same hash and the same function', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ultro-model-'));
    const m = handMadeModel();
    saveModel(join(dir, 'm.json'), m);
    expect(readdirSync(dir)).toEqual(['m.json']); // no temp file left behind
    const back = loadModel(join(dir, 'm.json'));
    expect(modelHash(back)).toBe(modelHash(m));
    expect(Array.from(modelTheta(back))).toEqual(Array.from(modelTheta(m)));
    const a = policyFunction(m),
      b = policyFunction(back);
    expect(a([1, -0.5])[0]).toBe(b([1, -0.5])[0]);
  });
  it('hash depends on the weights, not on provenance', () => {
    const m = handMadeModel();
    const h = modelHash(m);
    expect(modelHash({ ...m, provenance: { note: 'x' } })).toBe(h);
    const m2 = structuredClone(m);
    m2.network.layers[0].W[0][0] += 1e-12;
    expect(modelHash(m2)).not.toBe(h);
  });
  it('the deployed policy clamps inputs to the domain and outputs to the actuator box', () => {
    const m = handMadeModel();
    m.network.layers[2].b[0] = 50; // push the raw output far above 1
    expect(policyFunction(m, { clampOutput: false })([0, 0])[0]).toBeGreaterThan(1);
    expect(policyFunction(m, { clampOutput: true })([0, 0])[0]).toBe(1);
    const pi = policyFunction(handMadeModel());
    expect(pi([100, -100])[0]).toBe(pi([5, -2])[0]);
  });
  const corrupt: [string, (d: any) => void, RegExp][] = [
    ['unknown version', (d) => (d.format = 'ultro-model/9'), /format: unknown model format "ultro-model\/9"/],
    ['a non-numeric weight', (d) => (d.network.layers[1].W[3][2] = 'NaN'), /network\.layers\[1\]\.W\[3\]\[2\]: expected a finite number/],
    ['a null weight (NaN written by JSON.stringify)', (d) => (d.network.layers[0].b[1] = null), /network\.layers\[0\]\.b\[1\]: expected a finite number/],
    ['a wrong weight shape', (d) => d.network.layers[1].W.pop(), /network\.layers\[1\]\.W: has 7 rows, expected 8/],
    ['a missing domain', (d) => delete d.input.domain, /input\.domain/],
    ['an empty domain', (d) => (d.input.domain.max[0] = -5), /input\.domain\.min\[0\]: must be below domain\.max\[0\]/],
    ['a bad embedded plant', (d) => (d.plant.A = [[1]]), /plant: .*A|plant: B/],
    ['an unknown activation', (d) => (d.network.activation = 'gelu'), /network\.activation: expected one of tanh, relu, hardtanh/],
  ];
  for (const [what, mutate, re] of corrupt) {
    it(`rejects ${what} with an error naming the field`, () => {
      const d = JSON.parse(JSON.stringify(handMadeModel()));
      mutate(d);
      expect(() => modelFromJson(d, 'model.json')).toThrow(re);
      try {
        modelFromJson(d, 'model.json');
      } catch (e) {
        expect((e as Error).message.startsWith('model.json: ')).toBe(true);
      }
    });
  }
  it('rejects a truncated file with the path in the message', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ultro-model-'));
    const f = join(dir, 'cut.json');
    const text = JSON.stringify(handMadeModel());
    writeFileSync(f, text.slice(0, text.length / 2));
    expect(() => loadModel(f)).toThrow(/cut\.json: not valid JSON/);
    expect(readFileSync(f, 'utf8').length).toBeGreaterThan(0);
  });
});
