/**
 * The real, dirty UCI Online Retail data through its source definition (sources/online-retail.yaml),
 * ingest and the standard segmentation: the reference counts of its PROVENANCE.txt recounted here
 * from the canonical transactions ingest wrote, the file unchanged, and the K-Means result against
 * scikit-learn on the same features.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureOnlineRetail, ensureOnlineRetailIngest, manifestOf, ONLINE_RETAIL, ONLINE_RETAIL_DIR, python, readOutput, root } from "./helpers.js";

const datasetDir = ONLINE_RETAIL_DIR;
const dataFile = join(datasetDir, "online_retail.parquet");
const provenance = readFileSync(join(datasetDir, "PROVENANCE.txt"), "utf8");
const referenceSection = provenance.slice(provenance.indexOf("Reference counts"));
const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

/** A reference count from PROVENANCE.txt, e.g. "null CustomerID 135,080". */
function reference(label: string): number {
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const m = referenceSection.match(new RegExp(`(?:^|[;:\\s])${escaped}[^0-9;]*([0-9][0-9,]*(?:\\.[0-9]+)?)`));
  if (!m) throw new Error(`PROVENANCE.txt has no reference count for "${label}"`);
  return Number(m[1]!.replace(/,/g, ""));
}

describe("UCI Online Retail through sources/online-retail.yaml, ingest and customer-segmentation", () => {
  let ingest: any;
  let run: any;
  let before: string;

  beforeAll(() => {
    expect(existsSync(dataFile)).toBe(true);
    before = sha256(dataFile);
    ingest = ensureOnlineRetailIngest().json;
    run = ensureOnlineRetail().json;
  });

  it("ingest reads every row and rejects none; its transactions recount the reference counts of PROVENANCE.txt", async () => {
    const t = ingest.metrics.ingest.tables.transactions;
    expect(t).toMatchObject({ read: reference("rows"), filtered: 0, rejected: 0, accepted: reference("rows") });
    expect(ingest.metrics.ingest.absent).toEqual(["products", "events", "customers", "campaigns"]);
    expect(ingest.metrics.ingest.currency).toBe("GBP");
    const rows = await readOutput((await manifestOf(root(), ingest.runId)).outputs.transactions);
    expect(rows.length).toBe(reference("rows"));
    expect(new Set(rows.map((r) => r.order_id)).size).toBe(reference("distinct InvoiceNo"));
    expect(new Set(rows.filter((r) => r.customer_id !== null).map((r) => r.customer_id)).size).toBe(reference("distinct non-null CustomerID"));
    expect(rows.filter((r) => r.customer_id === null).length).toBe(reference("null CustomerID"));
    expect(new Set(rows.map((r) => r.region)).size).toBe(reference("countries"));
    expect(rows.filter((r) => r.status === "cancelled").length).toBe(reference('cancellation rows (InvoiceNo starting "C")'));
    const total = rows.reduce((s, r) => s + Number(r.quantity) * Number(r.unit_price), 0);
    expect(total).toBeCloseTo(reference("sum(Quantity*UnitPrice) ="), 2);
    // Invoice lines are numbered 1..n within each invoice.
    const lines = new Map<string, number[]>();
    for (const r of rows) lines.set(r.order_id as string, [...(lines.get(r.order_id as string) ?? []), Number(r.line_no)]);
    for (const numbers of lines.values()) expect(numbers.sort((a, b) => a - b)).toEqual(numbers.map((_, i) => i + 1));
    // Naive UK times became UTC instants: the last invoice, 2011-12-09 12:50 in winter (GMT), and a summer one an hour earlier.
    const times = rows.map((r) => (r.order_ts as Date).getTime());
    expect(new Date(Math.max(...times)).toISOString()).toBe("2011-12-09T12:50:00.000Z");
    expect(t.asOf).toBe("2011-12-10");
  });

  it("the segmentation takes its snapshot date from the data (the day after the last invoice)", async () => {
    const manifest = await manifestOf(root(), ONLINE_RETAIL.runId);
    const features = await readOutput(manifest.outputs.customer_features);
    expect(new Set(features.map((f) => (f.snapshot_date instanceof Date ? f.snapshot_date.toISOString() : String(f.snapshot_date)).slice(0, 10)))).toEqual(new Set(["2011-12-10"]));
    expect(Math.min(...features.map((f) => Number(f.recency_days)))).toBe(1);
  });

  it("the input file is unchanged: its sha256 before and after the runs, and as PROVENANCE.txt gives it", () => {
    expect(sha256(dataFile)).toBe(before);
    expect(provenance).toContain(before);
  });

  it("the cleaning counts agree with the reference counts", () => {
    const c = Object.fromEntries(run.metrics.clean_transactions.map((r: any) => [r.rule, r]));
    expect(c.input.matching).toBe(reference("rows"));
    expect(c.missing_customer.matching).toBe(reference("null CustomerID"));
    expect(c.cancelled.matching).toBe(reference('cancellation rows (InvoiceNo starting "C")'));
    const dropped = Object.values(c).filter((r: any) => r.action === "drop").reduce((s: number, r: any) => s + r.dropped, 0);
    expect(c.input.matching - dropped).toBe(c.kept.matching);
    expect(run.outputs.clean_transactions.rows).toBe(c.kept.matching);
  });

  it("every customer with a positive spend is segmented into the four named segments", () => {
    expect(run.metrics.segmentation.k).toBe(4);
    expect(Object.keys(run.metrics.segmentation.segmentSizes).sort()).toEqual(["churning", "high-value", "loyal", "potential"]);
    expect(run.outputs.customer_segments.rows).toBe(run.outputs.customer_features.rows);
    expect(run.outputs.customer_segments.rows).toBeLessThanOrEqual(reference("distinct non-null CustomerID"));
  });

  it("at k=4 the silhouette is at least scikit-learn's KMeans (n_init=10) on the same features", async () => {
    const manifest = await manifestOf(root(), ONLINE_RETAIL.runId);
    const out = execFileSync(python(), [join(import.meta.dirname, "sklearn_silhouette.py"), manifest.outputs.customer_features.uri, manifest.outputs.customer_segments.uri, "4"], { encoding: "utf8" });
    const peer = JSON.parse(out);
    console.log(`Online Retail k=4: spark silhouette ${peer.spark_silhouette.toFixed(4)} vs scikit-learn ${peer.sklearn_silhouette.toFixed(4)}; inertia ${peer.spark_inertia.toFixed(1)} vs ${peer.sklearn_inertia.toFixed(1)}`);
    expect(peer.customers).toBe(run.outputs.customer_features.rows);
    expect(peer.spark_silhouette).toBeGreaterThanOrEqual(peer.sklearn_silhouette - 1e-9);
  });
});
