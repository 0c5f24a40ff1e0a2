import { describe, expect, it } from 'vitest';
import { peerScaled } from '../../src/models/peer-scaled.js';

describe('peerScaled', () => {
  it('gives the series its level and its peers\' path relative to theirs', () => {
    // Peers sold 300 a week together over the series' weeks, and are forecast to sell 330, 600, 300.
    const f = peerScaled(10, 300, [330, 600, 300], [0, 0, 0]);
    expect(Array.from(f)).toEqual([11, 20, 10]);
  });

  it('is 0 where the store is closed, never negative, and 0 without a level to scale', () => {
    expect(Array.from(peerScaled(10, 100, [100, -50, 100], [0, 0, 1]))).toEqual([10, 0, 0]);
    expect(Array.from(peerScaled(0, 100, [100, 100], [0, 0]))).toEqual([0, 0]);
    expect(Array.from(peerScaled(10, 0, [100, 100], [0, 0]))).toEqual([0, 0]);
  });
});
