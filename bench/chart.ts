/**
 * The latency chart, as a self-contained SVG (no dependency): on top a histogram of vend and baseline
 * latencies at concurrency 1 on shared bins, below their empirical CDFs with p50 and p99 marked.
 * The x axis stops at the larger p99.5 so a few outliers do not squeeze the body of the distribution
 * (the count beyond it is printed on the chart).
 */
import { percentile } from './stats';

export interface ChartSeries {
  label: string;
  color: string;
  samples: readonly number[];
}

const W = 760;
const PAD = { left: 60, right: 20, top: 40, bottom: 40 };
const PANEL_H = 220;
const GAP = 50;

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceStep(range: number, ticks: number): number {
  const raw = range / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
}

/**
 * Renders the chart.
 *
 * @example writeFileSync('latency.svg', latencySvg('vend vs baseline, c=1', [vend, baseline]));
 */
export function latencySvg(title: string, series: readonly ChartSeries[]): string {
  const sorted = series.map((s) => [...s.samples].sort((a, b) => a - b));
  const xMax = Math.max(...sorted.map((s) => percentile(s, 99.5)));
  const xMin = Math.min(...sorted.map((s) => s[0] ?? 0));
  const lo = Math.max(0, Math.floor(xMin));
  const hi = Math.ceil(xMax);
  const plotW = W - PAD.left - PAD.right;
  const x = (v: number) => PAD.left + ((Math.min(v, hi) - lo) / Math.max(1e-9, hi - lo)) * plotW;
  const H = PAD.top + PANEL_H * 2 + GAP + PAD.bottom;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`,
  );

  // Histogram on shared bins.
  const bins = 60;
  const width = (hi - lo) / bins;
  const counts = sorted.map((s) => {
    const c = new Array<number>(bins).fill(0);
    for (const v of s) if (v <= hi) c[Math.min(bins - 1, Math.floor((v - lo) / width))]! += 1;
    return c.map((n) => n / Math.max(1, s.length));
  });
  const yMaxH = Math.max(...counts.flat(), 1e-9);
  const top1 = PAD.top;
  const base1 = top1 + PANEL_H;
  counts.forEach((c, si) => {
    const color = series[si]!.color;
    c.forEach((f, bi) => {
      if (f === 0) return;
      const h = (f / yMaxH) * (PANEL_H - 10);
      out.push(
        `<rect x="${x(lo + bi * width).toFixed(1)}" y="${(base1 - h).toFixed(1)}" width="${((plotW / bins) * 0.98).toFixed(1)}" height="${h.toFixed(1)}" fill="${color}" fill-opacity="0.45"/>`,
      );
    });
  });
  out.push(
    `<text x="${PAD.left - 45}" y="${top1 + PANEL_H / 2}" transform="rotate(-90 ${PAD.left - 45} ${top1 + PANEL_H / 2})" text-anchor="middle">share of samples</text>`,
  );

  // CDF.
  const top2 = base1 + GAP;
  const base2 = top2 + PANEL_H;
  const y2 = (f: number) => base2 - f * PANEL_H;
  sorted.forEach((s, si) => {
    const color = series[si]!.color;
    const pts: string[] = [];
    const step = Math.max(1, Math.floor(s.length / 400));
    for (let i = 0; i < s.length; i += step) {
      if (s[i]! > hi) break;
      pts.push(`${x(s[i]!).toFixed(1)},${y2((i + 1) / s.length).toFixed(1)}`);
    }
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.8" points="${pts.join(' ')}"/>`);
    for (const p of [50, 99]) {
      const v = percentile(s, p);
      out.push(
        `<line x1="${x(v).toFixed(1)}" x2="${x(v).toFixed(1)}" y1="${top2}" y2="${base2}" stroke="${color}" stroke-dasharray="3,3"/>`,
        `<text x="${(x(v) + 3).toFixed(1)}" y="${top2 + 12 + si * 12}" fill="${color}">p${p} ${v.toFixed(1)}</text>`,
      );
    }
  });
  for (const f of [0, 0.5, 0.9, 0.99, 1]) {
    out.push(
      `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y2(f)}" y2="${y2(f)}" stroke="#ddd"/>`,
      `<text x="${PAD.left - 5}" y="${y2(f) + 4}" text-anchor="end">${f}</text>`,
    );
  }
  out.push(
    `<text x="${PAD.left - 45}" y="${top2 + PANEL_H / 2}" transform="rotate(-90 ${PAD.left - 45} ${top2 + PANEL_H / 2})" text-anchor="middle">CDF</text>`,
  );

  // Axes and x ticks on both panels.
  const step = niceStep(hi - lo, 10);
  for (const base of [base1, base2]) {
    out.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${base}" y2="${base}" stroke="black"/>`);
    for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) {
      out.push(
        `<line x1="${x(t)}" x2="${x(t)}" y1="${base}" y2="${base + 4}" stroke="black"/>`,
        `<text x="${x(t)}" y="${base + 15}" text-anchor="middle">${Number(t.toFixed(3))}</text>`,
      );
    }
  }
  out.push(`<text x="${PAD.left + plotW / 2}" y="${H - 8}" text-anchor="middle">latency (ms)</text>`);

  // Legend, with how many samples lie beyond the axis.
  series.forEach((s, si) => {
    const beyond = sorted[si]!.filter((v) => v > hi).length;
    const lx = W - PAD.right - 250;
    const ly = top1 + 14 + si * 16;
    out.push(
      `<rect x="${lx}" y="${ly - 9}" width="12" height="10" fill="${s.color}" fill-opacity="0.6"/>`,
      `<text x="${lx + 18}" y="${ly}">${esc(`${s.label} (n=${s.samples.length}${beyond ? `, ${beyond} beyond ${hi} ms` : ''})`)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
