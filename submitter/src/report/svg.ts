/**
 * Charts as inline SVG for the HTML report: no script, no library, nothing fetched when the page
 * opens, printable. Bars and intervals have their values written beside them; a point of an XY
 * chart has its values in its tooltip. Pure.
 */
export const escapeHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export interface Bar {
  label: string;
  value: number;
  /** Drawn in the accent colour (the chosen k, the model kept). */
  highlight?: boolean;
}

const WIDTH = 720;
const ROW = 24;
/** Width in the SVG's units that a text of 12px takes, near enough to leave room for it. */
const textWidth = (texts: string[], min: number, max: number) => Math.min(max, Math.max(min, ...texts.map((t) => t.length * 7 + 10)));

/** Horizontal bars, one per row, the value written at the end of each. */
export function barChart(name: string, title: string, bars: Bar[], format: (v: number) => string): string {
  const max = Math.max(0, ...bars.map((b) => b.value));
  const LABEL = textWidth(bars.map((b) => b.label), 80, 320);
  const span = WIDTH - LABEL - textWidth(bars.map((b) => format(b.value)), 40, 160);
  const height = bars.length * ROW + 8;
  const rows = bars.map((b, i) => {
    const y = i * ROW + 4;
    const w = max > 0 ? Math.max(0, (b.value / max) * span) : 0;
    return `<text x="${LABEL - 8}" y="${y + 15}" text-anchor="end">${escapeHtml(b.label)}</text>`
      + `<rect x="${LABEL}" y="${y + 3}" width="${w.toFixed(1)}" height="${ROW - 8}" class="${b.highlight ? "bar hi" : "bar"}"/>`
      + `<text x="${(LABEL + w + 6).toFixed(1)}" y="${y + 15}" class="value">${escapeHtml(format(b.value))}</text>`;
  });
  return figure(name, title, WIDTH, height, rows.join(""));
}

export interface Interval {
  label: string;
  mid: number;
  lo: number;
  hi: number;
  highlight?: boolean;
}

/** A point and its interval per row, on one axis with zero marked: lifts and their 95% intervals. */
export function intervalChart(name: string, title: string, rows: Interval[], format: (v: number) => string): string {
  const lo = Math.min(0, ...rows.map((r) => r.lo));
  const hi = Math.max(0, ...rows.map((r) => r.hi));
  const LABEL = textWidth(rows.map((r) => r.label), 80, 300);
  const span = WIDTH - LABEL - textWidth(rows.map((r) => `${format(r.mid)} [${format(r.lo)}, ${format(r.hi)}]`), 60, 260);
  const x = (v: number) => LABEL + (hi > lo ? ((v - lo) / (hi - lo)) * span : span / 2);
  const height = rows.length * ROW + 8;
  const zero = `<line x1="${x(0).toFixed(1)}" x2="${x(0).toFixed(1)}" y1="0" y2="${height}" class="zero"/>`;
  const drawn = rows.map((r, i) => {
    const y = i * ROW + 4 + ROW / 2;
    return `<text x="${LABEL - 8}" y="${y + 4}" text-anchor="end">${escapeHtml(r.label)}</text>`
      + `<line x1="${x(r.lo).toFixed(1)}" x2="${x(r.hi).toFixed(1)}" y1="${y}" y2="${y}" class="${r.highlight ? "ci hi" : "ci"}"/>`
      + `<circle cx="${x(r.mid).toFixed(1)}" cy="${y}" r="4" class="${r.highlight ? "dot hi" : "dot"}"/>`
      + `<text x="${(LABEL + span + 10).toFixed(1)}" y="${y + 4}" class="value">${escapeHtml(`${format(r.mid)} [${format(r.lo)}, ${format(r.hi)}]`)}</text>`;
  });
  return figure(name, title, WIDTH, height, zero + drawn.join(""));
}

export interface Series {
  label: string;
  points: [number, number][];
}

/**
 * Points of one or more series on two axes from 0 to the largest value, with the diagonal y = x
 * (calibration: the predicted probability of each bin against the rate observed in it).
 */
export function xyChart(name: string, title: string, series: Series[], axes: { x: string; y: string }, format: (v: number) => string): string {
  const W = WIDTH, H = 320, left = 56, bottom = 40, top = 10, right = 150;
  const max = Math.max(1e-9, ...series.flatMap((s) => s.points.flatMap(([x, y]) => [x, y])));
  const px = (v: number) => left + (v / max) * (W - left - right);
  const py = (v: number) => H - bottom - (v / max) * (H - bottom - top);
  const ticks = [0, max / 2, max];
  const grid = ticks.map((t) => `<line x1="${left}" x2="${(W - right).toFixed(1)}" y1="${py(t).toFixed(1)}" y2="${py(t).toFixed(1)}" class="grid"/>`
    + `<text x="${left - 6}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end" class="value">${escapeHtml(format(t))}</text>`
    + `<text x="${px(t).toFixed(1)}" y="${H - bottom + 16}" text-anchor="middle" class="value">${escapeHtml(format(t))}</text>`).join("");
  const labels = `<text x="${((left + W - right) / 2).toFixed(1)}" y="${H - 6}" text-anchor="middle">${escapeHtml(axes.x)}</text>`
    + `<text x="14" y="${((top + H - bottom) / 2).toFixed(1)}" text-anchor="middle" transform="rotate(-90 14 ${((top + H - bottom) / 2).toFixed(1)})">${escapeHtml(axes.y)}</text>`;
  const diagonal = `<line x1="${px(0).toFixed(1)}" y1="${py(0).toFixed(1)}" x2="${px(max).toFixed(1)}" y2="${py(max).toFixed(1)}" class="zero"/>`;
  const drawn = series.map((s, i) => s.points.map(([x, y]) => `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="4" class="${i ? "dot hi" : "dot"}"><title>${escapeHtml(`${s.label}: ${format(x)}, ${format(y)}`)}</title></circle>`).join("")
    + `<circle cx="${W - right + 16}" cy="${top + 10 + i * 20}" r="4" class="${i ? "dot hi" : "dot"}"/><text x="${W - right + 26}" y="${top + 14 + i * 20}">${escapeHtml(s.label)}</text>`).join("");
  return figure(name, title, W, H, grid + diagonal + drawn + labels);
}

function figure(name: string, title: string, width: number, height: number, body: string): string {
  return `<figure class="chart" data-chart="${escapeHtml(name)}"><figcaption>${escapeHtml(title)}</figcaption>`
    + `<svg viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${escapeHtml(title)}">${body}</svg></figure>`;
}
