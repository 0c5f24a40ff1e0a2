import { describe, expect, it } from 'vitest';
import { peerScaled } from '../../src/models/peer-scaled.js';

describe('peerScaled', () => {
  it('gives the series its level and its peers\' path relative to theirs', () => {
    // Peers sold 300 a week together over the series' weeks, and are forecast to sell 330, 600, 300.
    const f = peerScaled(10, [330, 600, 300], [300, 300, 300], [0, 0, 0]);
    expect(Array.from(f)).toEqual([11, 20, 10]);
  });

  it('scales by the level of the peers open at the step only', () => {
    // Step 2: the peer of level 200 is closed; the one of level 100 is forecast at 120.
    expect(Array.from(peerScaled(10, [330, 120], [300, 100], [0, 0]))).toEqual([11, 12]);
  });

  it('is 0 where the store is closed, never negative, and 0 without a level to scale', () => {
    expect(Array.from(peerScaled(10, [100, -50, 100], [100, 100, 100], [0, 0, 1]))).toEqual([10, 0, 0]);
    expect(Array.from(peerScaled(0, [100, 100], [100, 100], [0, 0]))).toEqual([0, 0]);
    expect(Array.from(peerScaled(10, [100, 100], [0, 0], [0, 0]))).toEqual([0, 0]);
  });
});
