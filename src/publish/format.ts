/** Text formatting shared by every published file, so the same numbers give the same bytes. */

/** A number with at most 4 decimals and no exponent or trailing zeros ("12.5", "0", "1034.2871"). */
export function formatNumber(x: number): string {
  const r = Math.round(x * 1e4) / 1e4;
  return Object.is(r, -0) ? '0' : String(r);
}

/** A CSV field, quoted only when it must be (RFC 4180). */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Column name of a quantile level: 0.1 → p10, 0.975 → p97.5. */
export function quantileColumn(level: number): string {
  return `p${formatNumber(level * 100)}`;
}
