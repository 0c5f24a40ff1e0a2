/** Text formatting shared by every published file, so the same numbers give the same bytes. */

/** A number with at most 4 decimals and no exponent or trailing zeros ("12.5", "0", "1034.2871"). */
export function formatNumber(x: number): string {
  const r = Math.round(x * 1e4) / 1e4;
  return Object.is(r, -0) ? '0' : String(r);
}

/**
 * Spreadsheets run a cell that starts with = + - @ (or a tab or CR before one) as a formula,
 * so a store id such as `=HYPERLINK(…)` in the input would become a live link in a planner's
 * Excel. Such text is published with a leading single quote (OWASP's CSV-injection advice);
 * a plain number such as -3 or +1.5e2 is not a formula and stays as it is. Text that already
 * starts with quotes before such a character gets one more, so the prefix can be undone
 * exactly when shelfcast reads its own files back (csv-sql.ts does both in SQL).
 */
export const CSV_FORMULA = /^'*[=+\-@\t\r]/;
export const CSV_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
/** What csvText made of formula-like text: one quote more than it had. */
export const CSV_PREFIXED = /^'+[=+\-@\t\r]/;

/** Text as it is published in a CSV field: formula-like text prefixed with a single quote. */
export function csvText(s: string): string {
  return CSV_FORMULA.test(s) && !CSV_NUMBER.test(s) ? `'${s}` : s;
}

/** A CSV text field, neutralised (csvText) and quoted only when it must be (RFC 4180). */
export function csvField(s: string): string {
  const t = csvText(s);
  return /[",\r\n]/.test(t) ? `"${t.replaceAll('"', '""')}"` : t;
}

/** Column name of a quantile level: 0.1 → p10, 0.975 → p97.5. */
export function quantileColumn(level: number): string {
  return `p${formatNumber(level * 100)}`;
}
