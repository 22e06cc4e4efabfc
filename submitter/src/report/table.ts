/**
 * Plain-text tables for the terminal. Pure.
 */
export function textTable(headers: string[], rows: (string | number)[][], align: ("left" | "right")[] = []): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? "").length)));
  const line = (r: string[]) =>
    r.map((v, c) => ((align[c] ?? "left") === "right" ? v.padStart(widths[c]!) : v.padEnd(widths[c]!))).join("  ").trimEnd();
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

const money = (v: number) => v.toLocaleString("en-US", { maximumFractionDigits: 0 });
const fixed = (v: number, d = 1) => v.toFixed(d);

export interface SegmentProfileRow {
  cluster: number;
  segment: string;
  customers: number;
  share: number;
  avg_recency_days: number;
  avg_frequency: number;
  avg_monetary: number;
  avg_order_value: number;
  avg_tenure_days: number;
  revenue: number;
  revenue_share: number;
}

export function segmentTable(rows: SegmentProfileRow[]): string {
  const sorted = [...rows].sort((a, b) => b.revenue - a.revenue);
  return textTable(
    ["segment", "customers", "share", "recency (d)", "orders", "spend", "order value", "tenure (d)", "revenue", "revenue share"],
    sorted.map((r) => [
      r.segment,
      Number(r.customers),
      `${fixed(r.share * 100)}%`,
      fixed(r.avg_recency_days),
      fixed(r.avg_frequency),
      money(r.avg_monetary),
      money(r.avg_order_value),
      fixed(r.avg_tenure_days, 0),
      money(r.revenue),
      `${fixed(r.revenue_share * 100)}%`,
    ]),
    ["left", "right", "right", "right", "right", "right", "right", "right", "right", "right"],
  );
}
