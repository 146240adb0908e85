import { describe, expect, it } from 'vitest';
import { formatSeconds } from '../../sim/index.js';

describe('formatSeconds', () => {
  it('seconds below 90, then minutes and whole seconds, rounded once (never "60 s")', () => {
    expect(formatSeconds(4_250)).toBe('4.3 s');
    expect(formatSeconds(61_400)).toBe('61 s');
    expect(formatSeconds(93_000)).toBe('1 min 33 s');
    expect(formatSeconds(479_600)).toBe('8 min 0 s');
    expect(formatSeconds(119_700)).toBe('2 min 0 s');
  });
});
