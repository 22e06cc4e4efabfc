/**
 * The real, dirty UCI Online Retail data: the reference counts of its PROVENANCE.txt, and the
 * K-Means result against scikit-learn on the same features.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureOnlineRetail, manifestOf, ONLINE_RETAIL, ONLINE_RETAIL_DIR, python, root } from "./helpers.js";

const datasetDir = ONLINE_RETAIL_DIR;
const provenance = readFileSync(join(datasetDir, "PROVENANCE.txt"), "utf8");
const referenceSection = provenance.slice(provenance.indexOf("Reference counts"));

/** A reference count from PROVENANCE.txt, e.g. "null CustomerID 135,080". */
function reference(label: string): number {
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const m = referenceSection.match(new RegExp(`(?:^|[;:\\s])${escaped}[^0-9;]*([0-9][0-9,]*(?:\\.[0-9]+)?)`));
  if (!m) throw new Error(`PROVENANCE.txt has no reference count for "${label}"`);
  return Number(m[1]!.replace(/,/g, ""));
}

describe("online-retail-segmentation on ../shared/datasets/online_retail", () => {
  let run: any;

  beforeAll(() => {
    expect(existsSync(join(datasetDir, "online_retail.parquet"))).toBe(true);
    run = ensureOnlineRetail().json;
  });

  it("recomputes the reference counts of PROVENANCE.txt", () => {
    const p = run.metrics.source_profile[0];
    expect(p.rows).toBe(reference("rows"));
    expect(p.distinct_invoices).toBe(reference("distinct InvoiceNo"));
    expect(p.distinct_customers).toBe(reference("distinct non-null CustomerID"));
    expect(p.null_customer_rows).toBe(reference("null CustomerID"));
    expect(p.distinct_stock_codes).toBe(reference("distinct StockCode"));
    expect(p.countries).toBe(reference("countries"));
    expect(p.cancellation_rows).toBe(reference('cancellation rows (InvoiceNo starting "C")'));
    expect(p.total_amount).toBeCloseTo(reference("sum(Quantity*UnitPrice) ="), 2);
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
