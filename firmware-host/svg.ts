/**
 * Tiny inline-SVG charts for the self-contained HTML report (no scripts, no
 * CDN): line plots with horizontal bound lines, and histograms.
 */
import { escapeHtml } from '../sim/index.js';

export interface Series {
  name: string;
  color: string;
  points: [number, number][];
  dashed?: boolean;
}

export interface LinePlot {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Horizontal lines (e.g. constraint bounds). */
  hlines?: { y: number; label: string; color?: string }[];
  width?: number;
  height?: number;
}

/** HTML escaping for every user string in a report (sim's escapeHtml: one function for the context). */
export const esc = escapeHtml;

function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12 * step; v += step) out.push(Math.abs(v) < 1e-12 * step ? 0 : v);
  return out;
}

const fmt = (v: number) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(1) : Number(v.toPrecision(3)).toString());

export function linePlot(p: LinePlot): string {
  const W = p.width ?? 560,
    H = p.height ?? 240;
  const m = { l: 58, r: 12, t: 28, b: 38 };
  const xs = p.series.flatMap((s) => s.points.map((q) => q[0]));
  const ys = [...p.series.flatMap((s) => s.points.map((q) => q[1])), ...(p.hlines ?? []).map((h) => h.y)].filter(Number.isFinite);
  let x0 = Math.min(...xs),
    x1 = Math.max(...xs);
  let y0 = Math.min(...ys),
    y1 = Math.max(...ys);
  if (!(x1 > x0)) x1 = x0 + 1;
  if (!(y1 > y0)) ((y0 -= 1), (y1 += 1));
  const pad = 0.05 * (y1 - y0);
  y0 -= pad;
  y1 += pad;
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const sy = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(p.title)}">`);
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`);
  parts.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-size="13" font-weight="600">${esc(p.title)}</text>`);
  for (const t of niceTicks(y0, y1)) {
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.l - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end" font-size="10">${fmt(t)}</text>`);
  }
  for (const t of niceTicks(x0, x1)) parts.push(`<text x="${sx(t).toFixed(1)}" y="${H - m.b + 14}" text-anchor="middle" font-size="10">${fmt(t)}</text>`);
  parts.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="#888"/><line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#888"/>`);
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 6}" text-anchor="middle" font-size="11">${esc(p.xLabel)}</text>`);
  parts.push(`<text x="14" y="${(m.t + H - m.b) / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 14 ${(m.t + H - m.b) / 2})">${esc(p.yLabel)}</text>`);
  for (const h of p.hlines ?? []) {
    if (!Number.isFinite(h.y)) continue;
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${sy(h.y).toFixed(1)}" y2="${sy(h.y).toFixed(1)}" stroke="${h.color ?? '#c00'}" stroke-dasharray="6 3"/>`);
    parts.push(`<text x="${W - m.r - 2}" y="${(sy(h.y) - 3).toFixed(1)}" text-anchor="end" font-size="9" fill="${h.color ?? '#c00'}">${esc(h.label)}</text>`);
  }
  for (const s of p.series) {
    if (!s.points.length) continue;
    const d = s.points.map((q, i) => `${i ? 'L' : 'M'}${sx(q[0]).toFixed(1)},${sy(q[1]).toFixed(1)}`).join('');
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="4 3"' : ''}/>`);
  }
  p.series.forEach((s, i) => {
    const y = m.t + 6 + i * 13;
    parts.push(
      `<line x1="${m.l + 8}" x2="${m.l + 26}" y1="${y}" y2="${y}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="4 3"' : ''}/><text x="${m.l + 30}" y="${y + 4}" font-size="10">${esc(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

export function histogram(title: string, values: number[], opts: { xLabel: string; color?: string; bins?: number; width?: number; height?: number; log?: boolean }): string {
  const W = opts.width ?? 560,
    H = opts.height ?? 200;
  const m = { l: 48, r: 12, t: 28, b: 38 };
  const tf = (v: number) => (opts.log ? Math.log10(Math.max(v, 1)) : v);
  const vals = values.map(tf).filter(Number.isFinite);
  let lo = Math.min(...vals),
    hi = Math.max(...vals);
  if (!(hi > lo)) ((lo -= 0.5), (hi += 0.5));
  const nb = opts.bins ?? 30;
  const counts = new Array(nb).fill(0);
  for (const v of vals) counts[Math.min(nb - 1, Math.floor(((v - lo) / (hi - lo)) * nb))]++;
  const cmax = Math.max(1, ...counts);
  const bw = (W - m.l - m.r) / nb;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">`, `<rect width="${W}" height="${H}" fill="#fff"/>`];
  parts.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-size="13" font-weight="600">${esc(title)}</text>`);
  counts.forEach((c, i) => {
    const h = (c / cmax) * (H - m.t - m.b);
    parts.push(`<rect x="${(m.l + i * bw + 0.5).toFixed(1)}" y="${(H - m.b - h).toFixed(1)}" width="${Math.max(0.5, bw - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${opts.color ?? '#4878cf'}"/>`);
  });
  parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#888"/>`);
  const label = (v: number) => fmt(opts.log ? Math.pow(10, v) : v);
  for (const t of [lo, (lo + hi) / 2, hi])
    parts.push(`<text x="${(m.l + ((t - lo) / (hi - lo)) * (W - m.l - m.r)).toFixed(1)}" y="${H - m.b + 14}" text-anchor="middle" font-size="10">${label(t)}</text>`);
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 6}" text-anchor="middle" font-size="11">${esc(opts.xLabel)}${opts.log ? ' (log scale)' : ''}</text>`);
  parts.push(`<text x="${m.l - 6}" y="${m.t + 8}" text-anchor="end" font-size="10">${cmax}</text>`);
  parts.push('</svg>');
  return parts.join('');
}
