/**
 * The real, dirty UCI Online Retail data through its source definition (sources/online-retail.yaml)
 * and the shipped retail-analytics pipeline (ingest, segmentation, PCA, basket rules, CLV,
 * recommend): the reference counts of its PROVENANCE.txt recounted here from the canonical
 * transactions ingest wrote, the file unchanged, the K-Means result against scikit-learn on the
 * same features, CLV against BG/NBD + Gamma-Gamma, the recommendations recounted.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cliJson, manifestOf, ONLINE_RETAIL, ONLINE_RETAIL_DIR, ONLINE_RETAIL_PIPELINE, python, readOutput, repo, root } from "./helpers.js";

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

describe("UCI Online Retail through sources/online-retail.yaml and the retail-analytics pipeline", () => {
  let pipeline: { result: { code: number; stderr: string }; json: any };
  let ingest: any;
  let run: any;
  let before: string;

  beforeAll(async () => {
    expect(existsSync(dataFile)).toBe(true);
    before = sha256(dataFile);
    // ingest, customer-segmentation (k=4), customer-pca, basket-rules, clv, recommend; steps another test made are reused.
    pipeline = cliJson([...ONLINE_RETAIL_PIPELINE.args, "--run-id", ONLINE_RETAIL_PIPELINE.runId]);
    expect([0, 7], pipeline.result.stderr.slice(-3000)).toContain(pipeline.result.code);
    const step = async (name: string) => {
      const m = await manifestOf(root(), `${ONLINE_RETAIL_PIPELINE.runId}.${name}`);
      return { runId: m.runId, metrics: m.metrics, outputs: m.outputs };
    };
    ingest = await step("ingest");
    run = await step("segments");
  });

  it("the pipeline ran every step; the last, recommend, stops it with exit 7 exactly when ALS does not beat popularity on precision@10", async () => {
    for (const name of ["ingest", "segments", "pca", "basket_rules", "clv", "recommend"]) {
      expect((await manifestOf(root(), `${ONLINE_RETAIL_PIPELINE.runId}.${name}`)).status, name).toBe("succeeded");
    }
    const m = (await manifestOf(root(), `${ONLINE_RETAIL_PIPELINE.runId}.recommend`)).metrics.recommend;
    const beats = m.als.precisionAtN >= m.popularity.precisionAtN;
    expect(pipeline.result.code).toBe(beats ? 0 : 7);
    if (!beats) {
      expect(pipeline.json.error.message).toBe(`pipeline ${ONLINE_RETAIL_PIPELINE.runId} stopped at step recommend (job recommend, run ${ONLINE_RETAIL_PIPELINE.runId}.recommend): 1 quality gate failed`);
      expect(pipeline.json.error.problems[0].path).toBe("beats_popularity");
      // The steps that ran, the stopped one last with its gates, for an orchestrator to show.
      expect(pipeline.json.error.details.stoppedAt).toBe("recommend");
      expect(pipeline.json.error.details.steps.map((s: any) => [s.name, s.status])).toEqual([
        ["ingest", "succeeded"], ["segments", "succeeded"], ["pca", "succeeded"], ["basket_rules", "succeeded"], ["clv", "succeeded"], ["recommend", "gate_failed"],
      ]);
      // Rerunning the same id would reuse the step and stop at the same gate: the fix says so.
      expect(pipeline.json.error.fix).toContain("to go past the gate (with a bound the pipeline takes as a parameter, or after changing the data or the job), rerun under a new --run-id");
    }
    // The segment map: one point per segmented customer, on two components.
    const pca = await manifestOf(root(), `${ONLINE_RETAIL_PIPELINE.runId}.pca`);
    expect(pca.outputs.segment_map.rows).toBe(run.outputs.customer_segments.rows);
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
    const last = rows.reduce((m, r) => Math.max(m, (r.order_ts as Date).getTime()), 0);
    expect(new Date(last).toISOString()).toBe("2011-12-09T12:50:00.000Z");
    // The first invoice of 2011-06-01 says 07:37, UK summer time (BST, UTC+1): 06:37 UTC.
    const june1 = rows.map((r) => (r.order_ts as Date).toISOString()).filter((t) => t.startsWith("2011-06-01")).sort();
    expect(june1[0]).toBe("2011-06-01T06:37:00.000Z");
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
    // The manifest's silhouette is the usual (Euclidean) one, on a sample of 3,000 of the customers:
    // within sampling error of scikit-learn's on all of them; Spark's squared-Euclidean one is beside it.
    const seg = run.metrics.segmentation;
    expect(seg).toMatchObject({ silhouetteDistance: "euclidean", silhouetteSample: 3000 });
    expect(Math.abs(seg.silhouette - peer.spark_silhouette)).toBeLessThan(0.02);
    expect(seg.silhouetteSquaredEuclidean).toBeGreaterThan(seg.silhouette);
  });

  it("CLV with cutoff 2011-09-09 and a 91-day horizon: GBT against BG/NBD + Gamma-Gamma and the naive run rate, every error recomputed", async () => {
    // The pipeline's clv step: the cutoff defaults to the last day whose 91 days the data covers (2011-12-09 - 91 days).
    const runId = `${ONLINE_RETAIL_PIPELINE.runId}.clv`;
    const manifest = await manifestOf(root(), runId);
    const r = { json: { metrics: manifest.metrics } };
    const plan = JSON.parse(readFileSync(join(root(), "stage", "plans", `${manifest.planSha256}.json`), "utf8"));
    expect(plan.params.cutoff).toEqual({ type: "date", value: "2011-09-09" });
    expect(plan.params.horizon_days).toEqual({ type: "int", value: 91 });
    const seg = await manifestOf(root(), ONLINE_RETAIL.runId);
    const peer = JSON.parse(execFileSync(python(), [join(repo, "bench", "peers", "btyd_clv.py"), seg.outputs.clean_transactions.uri, manifest.outputs.clv_scores.uri, "2011-09-09", "91"], { encoding: "utf8" }));
    const m = r.json.metrics.clv;
    console.log(`Online Retail CLV (cutoff 2011-09-09, 91 days, ${peer.test_customers} held-out customers, mean spend ${peer.mean_spend.toFixed(1)}): ` +
      `RMSE gbt ${peer.gbt.rmse.toFixed(1)}, BG/NBD+GG ${peer.btyd.rmse.toFixed(1)}, naive ${peer.naive.rmse.toFixed(1)}; ` +
      `MAE gbt ${peer.gbt.mae.toFixed(1)}, BG/NBD+GG ${peer.btyd.mae.toFixed(1)}, naive ${peer.naive.mae.toFixed(1)}`);
    // The label is each customer's spend over the horizon, recounted from the clean transactions.
    expect(peer.label_max_difference).toBeLessThan(1e-6);
    expect(peer.customers_without_btyd).toBe(0);
    expect(peer.test_customers).toBe(m.testRows);
    // The run's own figures equal the recount.
    expect(peer.gbt.rmse).toBeCloseTo(m.models.gbt.rmse, 6);
    expect(peer.naive.mae).toBeCloseTo(m.baseline.mae, 6);
    expect(m.oracle).toBeUndefined();
    // Both models beat the naive run rate on both errors (which of the two is better is reported, not assumed).
    expect(peer.gbt.rmse).toBeLessThan(peer.naive.rmse);
    expect(peer.gbt.mae).toBeLessThan(peer.naive.mae);
    expect(peer.btyd.rmse).toBeLessThan(peer.naive.rmse);
    expect(peer.btyd.mae).toBeLessThan(peer.naive.mae);
  });

  it("recommend on purchases alone (the data has no events): precision@10 and recall@10 recounted from the recommendations and the holdout", async () => {
    const runId = `${ONLINE_RETAIL_PIPELINE.runId}.recommend`;
    const m = (await manifestOf(root(), runId)).metrics.recommend;
    console.log(`Online Retail recommend: precision@10 ALS ${m.als.precisionAtN.toFixed(4)} vs popularity ${m.popularity.precisionAtN.toFixed(4)}; ` +
      `recall@10 ${m.als.recallAtN.toFixed(4)} vs ${m.popularity.recallAtN.toFixed(4)}; ${m.holdoutUsers} customers bought in the 60-day holdout`);

    // The holdout: what each customer bought from 2011-10-11 (60 days before the snapshot, 2011-12-10) on.
    const seg = await manifestOf(root(), ONLINE_RETAIL.runId);
    const from = Date.parse("2011-10-11T00:00:00Z");
    const bought = new Map<string, Set<string>>();
    for (const t of await readOutput(seg.outputs.clean_transactions)) {
      if ((t.order_ts as Date).getTime() < from) continue;
      const set = bought.get(t.customer_id as string) ?? new Set<string>();
      set.add(t.product_id as string);
      bought.set(t.customer_id as string, set);
    }
    const recs = new Map<string, string[]>();
    for (const x of await readOutput((await manifestOf(root(), runId)).outputs.recommendations)) recs.set(x.customer_id as string, [...(recs.get(x.customer_id as string) ?? []), x.product_id as string]);
    let precision = 0;
    let recall = 0;
    for (const [customer, items] of bought) {
      const hits = (recs.get(customer) ?? []).filter((p) => items.has(p)).length;
      precision += hits / 10;
      recall += hits / items.size;
    }
    expect(bought.size).toBe(m.holdoutUsers);
    expect(precision / bought.size).toBeCloseTo(m.als.precisionAtN, 9);
    expect(recall / bought.size).toBeCloseTo(m.als.recallAtN, 9);
  });
});
