/**
 * Demand classes of Syntetos, Boylan & Croston (2005): by the average inter-demand interval
 * (ADI) and the squared coefficient of variation of non-zero demand sizes (CV²), with their
 * cut-offs 1.32 and 0.49.
 */
export type DemandClass = 'smooth' | 'erratic' | 'intermittent' | 'lumpy';

export const DEMAND_CLASSES: readonly DemandClass[] = ['smooth', 'erratic', 'intermittent', 'lumpy'];

export interface DemandProfile {
  readonly cls: DemandClass;
  readonly adi: number;
  readonly cv2: number;
  readonly zeroShare: number;
}

export function classifyDemand(y: Float64Array): DemandProfile {
  let nz = 0;
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (v > 0) { nz++; sum += v; sumSq += v * v; }
  }
  const adi = nz > 0 ? y.length / nz : Infinity;
  const m = nz > 0 ? sum / nz : 0;
  const variance = nz > 1 ? (sumSq - nz * m * m) / (nz - 1) : 0;
  const cv2 = m > 0 ? Math.max(0, variance) / (m * m) : 0;
  const intermittentTiming = adi >= 1.32;
  const erraticSize = cv2 >= 0.49;
  const cls: DemandClass = intermittentTiming ? (erraticSize ? 'lumpy' : 'intermittent') : erraticSize ? 'erratic' : 'smooth';
  return { cls, adi, cv2, zeroShare: y.length > 0 ? 1 - nz / y.length : 1 };
}
