import { describe, expect, it } from 'vitest';
import { learnClosures, OPEN, SHUT, UNKNOWN } from '../src/calendars/closures.js';

/** A store's history as states per day (0 = first day of the grid), with `shut` days. */
function history(n: number, shut: (t: number) => boolean, unknown: (t: number) => boolean = () => false): Uint8Array {
  return Uint8Array.from({ length: n }, (_, t) => (unknown(t) ? UNKNOWN : shut(t) ? SHUT : OPEN));
}
const none = { t: new Int32Array(0), f: new Int32Array(0) };
const rule = (endT: number, horizon = 14) => ({ week: 7, weeks: 8, endT, lastT: endT + horizon });

describe('closures learned from a store\'s history', () => {
  it('closes a weekday shut in each of the last weeks, history and horizon alike', () => {
    const state = history(100, (t) => t % 7 === 3);
    const c = learnClosures({ state, explicit: new Int32Array(0), explicitOpen: new Int32Array(0) }, none, rule(99));
    expect(c.weekdays).toEqual([3]);
    expect(Array.from(c.periods).filter((t) => t > 99)).toEqual([101, 108]);
    expect(c.periods.includes(94)).toBe(true);
  });

  it('needs every one of the last weeks: a store that opened on that weekday once is not closed', () => {
    const state = history(100, (t) => t % 7 === 3 && t !== 87);
    expect(learnClosures({ state, explicit: new Int32Array(0), explicitOpen: new Int32Array(0) }, none, rule(99)).weekdays).toEqual([]);
    // Days the history says nothing about (an outage) neither open nor close it.
    const gap = history(100, (t) => t % 7 === 3, (t) => t >= 60 && t < 80);
    expect(learnClosures({ state: gap, explicit: new Int32Array(0), explicitOpen: new Int32Array(0) }, none, rule(99)).weekdays).toEqual([3]);
  });

  it('closes a holiday shut on its past occurrences, unless the store is often shut anyway', () => {
    // Feature 0 falls on days 30 and 395 and again on day 760, in the horizon.
    const features = { t: Int32Array.from([30, 395, 760]), f: Int32Array.from([0, 0, 0]) };
    const always = history(750, (t) => t === 30 || t === 395);
    const c = learnClosures({ state: always, explicit: new Int32Array(0), explicitOpen: new Int32Array(0) }, features, { week: 7, weeks: 8, endT: 749, lastT: 770 });
    expect(c.features).toEqual([0]);
    expect(c.periods.includes(760)).toBe(true);
    // A store shut on a third of its ordinary days proves nothing by being shut twice on a holiday.
    const sparse = history(750, (t) => t === 30 || t === 395 || t % 3 === 0);
    expect(learnClosures({ state: sparse, explicit: new Int32Array(0), explicitOpen: new Int32Array(0) }, features, { week: 0, weeks: 8, endT: 749, lastT: 770 }).features).toEqual([]);
  });

  it('takes what the input says: explicit closures, and openings that override learned ones', () => {
    const state = history(100, (t) => t % 7 === 3);
    const c = learnClosures({ state, explicit: Int32Array.from([50, 105]), explicitOpen: Int32Array.from([101]) }, none, rule(99));
    expect(Array.from(c.periods).filter((t) => t > 99)).toEqual([105, 108]);
    expect(c.periods.includes(50)).toBe(true);
  });
});
