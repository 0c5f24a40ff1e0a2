/**
 * Cold start by analogy, the "like item" forecast a planner makes by hand: a series with too
 * little history for models of its own is forecast at its own level, shaped as its peers (the
 * same SKU in the other stores, with history enough for theirs) are forecast to move from
 * their level over the same periods:
 *
 *   ŷ_s = ℓ · Σ_p ŷ_p,s / Σ_p ℓ_p     (the sums over the peers open at step s)
 *
 * with ℓ the series' mean over its observed periods and ℓ_p each peer's mean over the same
 * periods. The peers' forecasts carry what a few weeks cannot show (the season ahead, the
 * holidays, the promotions); the series' own weeks carry how big it is in its store. The sum
 * over the peers (not a mean of their ratios) keeps one small peer's noise from dominating; a
 * peer whose store is closed at a step says nothing about that step.
 *
 * `forecast` and `level` are per step: Σ_p ŷ_p,s and Σ_p ℓ_p over the peers open at s.
 */
export function peerScaled(level: number, forecast: ArrayLike<number>, peerLevel: ArrayLike<number>, closed: ArrayLike<number>): Float64Array {
  const out = new Float64Array(forecast.length);
  if (!(level > 0)) return out;
  for (let s = 0; s < out.length; s++) out[s] = closed[s] || !(peerLevel[s] > 0) ? 0 : Math.max(0, (level * forecast[s]) / peerLevel[s]);
  return out;
}
