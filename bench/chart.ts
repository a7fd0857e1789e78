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

/** One function's cold init beside its SDK floor (medians, ms). */
export interface ColdInitBar {
  name: string;
  coldInitMs?: number;
  floorMs?: number;
}

/** One soak checkpoint of the handler process (after a full GC). */
export interface SoakPoint {
  vends: number;
  heapUsedMB: number;
  rssMB: number;
}

/**
 * The functions chart, as a self-contained SVG: on top each function's cold init (red) beside its
 * SDK floor (blue) with the target marked; below the credentials handler's heap and RSS over the
 * soak, as growth above their values at the start.
 *
 * @example writeFileSync('functions.svg', functionsSvg('cold init and memory', bars, 60, points));
 */
export function functionsSvg(
  title: string,
  bars: readonly ColdInitBar[],
  targetMs: number,
  soak: readonly SoakPoint[],
): string {
  const plotW = W - PAD.left - PAD.right - 60;
  const left = PAD.left + 60;
  const rowH = 26;
  const barsH = Math.max(1, bars.length) * rowH;
  const soakH = 200;
  const H = PAD.top + barsH + GAP + soakH + PAD.bottom;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`,
  ];

  // Cold init bars.
  const finite = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v);
  const xMax =
    Math.max(targetMs * 1.1, ...bars.flatMap((b) => [b.coldInitMs, b.floorMs].filter(finite))) * 1.05;
  const xb = (v: number) => left + (v / xMax) * plotW;
  bars.forEach((b, i) => {
    const y = PAD.top + i * rowH;
    out.push(`<text x="${left - 6}" y="${y + 15}" text-anchor="end">${esc(b.name)}</text>`);
    const pairs: [number | undefined, string, number][] = [
      [b.coldInitMs, '#d62728', 3],
      [b.floorMs, '#1f77b4', 13],
    ];
    for (const [v, color, dy] of pairs) {
      if (!finite(v)) continue;
      out.push(
        `<rect x="${left}" y="${y + dy}" width="${(xb(v) - left).toFixed(1)}" height="9" fill="${color}" fill-opacity="0.7"/>`,
        `<text x="${(xb(v) + 4).toFixed(1)}" y="${y + dy + 8}" fill="${color}">${v.toFixed(1)}</text>`,
      );
    }
  });
  const barsBase = PAD.top + barsH;
  out.push(
    `<line x1="${xb(targetMs)}" x2="${xb(targetMs)}" y1="${PAD.top - 4}" y2="${barsBase}" stroke="black" stroke-dasharray="4,3"/>`,
    `<text x="${xb(targetMs) + 3}" y="${PAD.top - 6}">target ${targetMs} ms</text>`,
    `<line x1="${left}" x2="${left + plotW}" y1="${barsBase}" y2="${barsBase}" stroke="black"/>`,
    `<text x="${left + plotW / 2}" y="${barsBase + 28}" text-anchor="middle">cold init, median of fresh processes (ms): function (red) and its SDK floor (blue)</text>`,
  );
  const tick = niceStep(xMax, 8);
  for (let t = 0; t <= xMax; t += tick) {
    out.push(`<text x="${xb(t)}" y="${barsBase + 13}" text-anchor="middle">${Number(t.toFixed(1))}</text>`);
  }

  // Soak: growth above the start, heap and RSS.
  const top = barsBase + GAP;
  const base = top + soakH;
  const start = soak[0];
  if (start && soak.length > 1) {
    const lastVends = soak.at(-1)!.vends;
    const growth = soak.flatMap((p) => [p.heapUsedMB - start.heapUsedMB, p.rssMB - start.rssMB]);
    const yLo = Math.min(0, ...growth);
    const yHi = Math.max(1, ...growth);
    const xs = (v: number) => left + (v / Math.max(1, lastVends)) * plotW;
    const ys = (v: number) => base - ((v - yLo) / (yHi - yLo)) * soakH;
    for (const [key, color, label] of [
      ['heapUsedMB', '#2ca02c', 'heap used'],
      ['rssMB', '#9467bd', 'RSS'],
    ] as const) {
      const pts = soak.map((p) => `${xs(p.vends).toFixed(1)},${ys(p[key] - start[key]).toFixed(1)}`);
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.8" points="${pts.join(' ')}"/>`);
      const end = soak.at(-1)!;
      out.push(
        `<text x="${left + (key === 'rssMB' ? 260 : 0)}" y="${top - 10}" fill="${color}">${esc(
          `${label}: ${start[key].toFixed(1)} → ${end[key].toFixed(1)} MB`,
        )}</text>`,
      );
    }
    out.push(
      `<line x1="${left}" x2="${left + plotW}" y1="${ys(0)}" y2="${ys(0)}" stroke="#999" stroke-dasharray="2,2"/>`,
      `<line x1="${left}" x2="${left + plotW}" y1="${base}" y2="${base}" stroke="black"/>`,
      `<text x="${left - 6}" y="${ys(yHi) + 4}" text-anchor="end">+${yHi.toFixed(1)}</text>`,
      `<text x="${left - 6}" y="${ys(yLo) + 4}" text-anchor="end">${yLo.toFixed(1)}</text>`,
      `<text x="${left + plotW / 2}" y="${H - 8}" text-anchor="middle">${esc(
        `credentials handler alone: growth after GC above the start (MB) over ${lastVends} vends`,
      )}</text>`,
    );
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
