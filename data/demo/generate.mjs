#!/usr/bin/env node
// Generates the bundled demo data set: daily sales for 4 stores × 12 SKUs over two years,
// with weekly and yearly seasonality, holidays, promotions, stock-outs, intermittent SKUs,
// and a few of the flaws real feeds have. Deterministic: the same seed gives the same bytes.
// usage: node data/demo/generate.mjs   (writes sales.csv and stores.csv beside this file)
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
let seed = 20240101;
const rand = () => { seed = (seed + 0x6d2b79f5) | 0; let t = Math.imul(seed ^ (seed >>> 15), 1 | seed); t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
const normal = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
const poisson = (lam) => { if (lam > 30) return Math.max(0, Math.round(lam + Math.sqrt(lam) * normal())); let k = 0, p = 1; const L = Math.exp(-lam); do { k++; p *= rand(); } while (p > L); return k - 1; };

const stores = [
  { store_id: 'S01', country: 'US', region: 'TX', size: 1.2 },
  { store_id: 'S02', country: 'US', region: 'CA', size: 1.0 },
  { store_id: 'S03', country: 'CA', region: 'ON', size: 0.8 },
  { store_id: 'S04', country: 'GB', region: 'ENG', size: 0.7 },
];
// base: units/day; yearly: amplitude and peak day-of-year; weekend: Saturday/Sunday lift.
const skus = [
  { sku: 'MILK-1L', base: 60, yearly: 0.05, peak: 15, weekend: 0.3, price: 1.29 },
  { sku: 'BREAD-WH', base: 45, yearly: 0.05, peak: 340, weekend: 0.35, price: 2.49 },
  { sku: 'EGGS-12', base: 30, yearly: 0.1, peak: 95, weekend: 0.3, price: 3.19 },
  { sku: 'BANANA-KG', base: 50, yearly: 0.1, peak: 200, weekend: 0.25, price: 0.69 },
  { sku: 'SODA-2L', base: 25, yearly: 0.35, peak: 200, weekend: 0.5, price: 1.99 },
  { sku: 'CHARCOAL-5KG', base: 4, yearly: 0.9, peak: 185, weekend: 0.8, price: 8.99 },
  { sku: 'ICE-CREAM', base: 12, yearly: 0.7, peak: 200, weekend: 0.6, price: 4.49 },
  { sku: 'TURKEY-WHL', base: 0.4, yearly: 0.2, peak: 330, weekend: 0.4, price: 24.99 },
  { sku: 'TOY-ROBOT', base: 0.8, yearly: 0.6, peak: 350, weekend: 0.7, price: 29.99 },
  { sku: 'UMBRELLA', base: 0.5, yearly: 0.5, peak: 290, weekend: 0.3, price: 12.99 },
  { sku: 'BATTERY-AA', base: 3, yearly: 0.2, peak: 350, weekend: 0.3, price: 6.49 },
  { sku: 'LIGHTBULB', base: 1.5, yearly: 0.3, peak: 330, weekend: 0.4, price: 3.99 },
];

const DAY = 86400000;
const start = Date.UTC(2024, 0, 1), end = Date.UTC(2025, 11, 31);
const iso = (t) => new Date(t).toISOString().slice(0, 10);
const nthWeekday = (y, m, wd, n) => { const d = new Date(Date.UTC(y, m, 1)); const off = (wd - d.getUTCDay() + 7) % 7; return Date.UTC(y, m, 1 + off + 7 * (n - 1)); };
const easter = (y) => { const a = y % 19, b = Math.floor(y / 100), c = y % 100, d = Math.floor(b / 4), e = b % 4, f = Math.floor((b + 8) / 25), g = Math.floor((b - f + 1) / 3), h = (19 * a + b - d - g + 15) % 30, i = Math.floor(c / 4), k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7, m = Math.floor((a + 11 * h + 22 * l) / 451), month = Math.floor((h + l - 7 * m + 114) / 31), day = ((h + l - 7 * m + 114) % 31) + 1; return Date.UTC(y, month - 1, day); };
// Holiday multipliers by country: [date, multiplier for grocery, multiplier for general merchandise].
function holidays(country, y) {
  const h = [[Date.UTC(y, 11, 24), 1.8, 1.5], [Date.UTC(y, 11, 25), 0.1, 0.1], [easter(y) - DAY, 1.5, 1.1], [easter(y), 0.5, 0.5]];
  if (country === 'US') { const tg = nthWeekday(y, 10, 4, 4); h.push([tg - DAY, 2.2, 1.2], [tg, 0.3, 0.3], [tg + DAY, 1.2, 2.5], [Date.UTC(y, 6, 4), 1.6, 1.3], [Date.UTC(y, 6, 3), 1.4, 1.1]); }
  if (country === 'CA') { h.push([Date.UTC(y, 6, 1), 1.5, 1.2], [Date.UTC(y, 11, 26), 1.3, 2.0], [nthWeekday(y, 9, 1, 2), 1.6, 1.1]); }
  if (country === 'GB') { h.push([Date.UTC(y, 11, 26), 1.2, 2.2], [nthWeekday(y, 4, 1, 1), 1.3, 1.1]); }
  return h;
}
const grocery = new Set(['MILK-1L', 'BREAD-WH', 'EGGS-12', 'BANANA-KG', 'SODA-2L', 'TURKEY-WHL', 'ICE-CREAM']);

const rows = ['store_id,sku,date,units,price,promo,stockout'];
for (const st of stores) {
  const hol = new Map();
  for (const y of [2024, 2025]) for (const [t, g, m] of holidays(st.country, y)) hol.set(t, [g, m]);
  for (const sk of skus) {
    let level = sk.base * st.size * (0.8 + 0.4 * rand());
    const trend = 1 + (rand() - 0.4) * 0.0006;
    let promoLeft = 0, stockLeft = 0;
    for (let t = start; t <= end; t += DAY) {
      const d = new Date(t), doy = Math.floor((t - Date.UTC(d.getUTCFullYear(), 0, 1)) / DAY), wd = d.getUTCDay();
      level *= trend;
      let mu = level * (1 + sk.yearly * Math.cos((2 * Math.PI * (doy - sk.peak)) / 365.25));
      if (wd === 6 || wd === 0) mu *= 1 + sk.weekend; else if (wd === 1) mu *= 0.9;
      const hm = hol.get(t); if (hm) mu *= grocery.has(sk.sku) ? hm[0] : hm[1];
      if (sk.sku === 'TURKEY-WHL' && st.country === 'US') { const tg = nthWeekday(d.getUTCFullYear(), 10, 4, 4); if (t >= tg - 6 * DAY && t < tg) mu *= 25; }
      if (promoLeft === 0 && rand() < 0.012 && sk.base > 2) promoLeft = 7;
      const promo = promoLeft > 0 ? 1 : 0; if (promoLeft > 0) { promoLeft--; mu *= 1.6; }
      if (stockLeft === 0 && rand() < 0.004) stockLeft = 2 + Math.floor(rand() * 4);
      const stockout = stockLeft > 0 ? 1 : 0;
      let units = poisson(Math.max(mu, 0));
      if (stockout) { stockLeft--; units = Math.floor(units * 0.2); }
      if (rand() < 0.0005) units = -1 - Math.floor(rand() * 3);   // a return booked as negative sales
      if (rand() < 0.0006) continue;                               // a day missing from the feed
      const price = (sk.price * (promo ? 0.8 : 1)).toFixed(2);
      rows.push(`${st.store_id},${sk.sku},${iso(t)},${units},${price},${promo},${stockout}`);
    }
  }
}
// Two rows a real export would also carry: one duplicated, one with an impossible date.
rows.push(rows[100]);
rows.push('S02,MILK-1L,2025-02-30,58,1.29,0,0');
writeFileSync(join(here, 'sales.csv'), rows.join('\n') + '\n');
writeFileSync(join(here, 'stores.csv'), ['store_id,country,region', ...stores.map((s) => `${s.store_id},${s.country},${s.region}`)].join('\n') + '\n');
console.log(`wrote ${rows.length - 1} rows for ${stores.length * skus.length} series`);
