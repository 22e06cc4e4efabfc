/**
 * A customer-level campaign file (one row per customer, two treatment arms sharing one control
 * group, outcomes; no order lines) through sources/email-campaign.yaml and the shipped
 * campaign-targeting pipeline (ingest, kpis, response, uplift, score-uplift, target) without a
 * segmentation: each arm's A/B interval against the planted effect, the counts recounted from the
 * CSV itself, the models against scikit-learn on the same splits, the scores against the uplift
 * run's own predictions, and the targeting list recounted from the scores and the CSV.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cli, cliJson, manifestOf, python, readOutput, repo, root } from "./helpers.js";

const CUSTOMERS = 12000;
const BUDGET = 300;
const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

function readCsv(file: string): Record<string, string>[] {
  const [head, ...lines] = readFileSync(file, "utf8").trim().split(/\r?\n/);
  const names = head!.split(",");
  return lines.map((l) => Object.fromEntries(l.split(",").map((v, i) => [names[i]!, v])));
}

describe("a customer-level e-mail campaign through sources/email-campaign.yaml and the campaign-targeting pipeline", () => {
  let dir: string;
  let ingest: any;
  let kpis: any;
  let response: any;
  let uplift: any;
  let peer: any;
  let pipeline: any;
  let rows: Record<string, string>[];
  let truth: Record<string, string>[];
  let checksums: Record<string, string>;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "sparkjobs-campaign-"));
    execFileSync(python(), [join(repo, "fixtures", "make_campaign_csv.py"), join(dir, "email-campaign.csv"), "--customers", String(CUSTOMERS), "--seed", "7"]);
    copyFileSync(join(repo, "sources", "email-campaign.yaml"), join(dir, "email-campaign.yaml"));
    checksums = Object.fromEntries(readdirSync(dir).map((f) => [f, sha256(join(dir, f))]));
    rows = readCsv(join(dir, "email-campaign.csv"));
    truth = readCsv(join(dir, "email-campaign.truth.csv"));
    // The shipped pipeline from the source definition: ingest, kpis, response, uplift (men's arm), score-uplift, target.
    const p = cliJson(["pipeline", "campaign-targeting", "--param", `sources=${join(dir, "email-campaign.yaml")}`, "--param", "arm=mens",
      "--param", "campaign_type=merchandise_email", "--param", `budget=${BUDGET}`, "--run-id", "it-campaign"]);
    expect(p.result.code, p.result.stderr.slice(-3000)).toBe(0);
    pipeline = p.json;
  });

  beforeAll(async () => {
    // Each step's result (checks, outputs) with its manifest's metrics.
    const step = async (name: string) => ({ ...pipeline.steps.find((s: any) => s.name === name), metrics: (await manifestOf(root(), `it-campaign.${name}`)).metrics });
    [ingest, kpis, response, uplift] = await Promise.all(["ingest", "kpis", "response", "uplift"].map(step));
    const r = await manifestOf(root(), "it-campaign.response");
    const u = await manifestOf(root(), "it-campaign.uplift");
    peer = JSON.parse(execFileSync(python(), [join(import.meta.dirname, "sklearn_campaign.py"), join(dir, "email-campaign.csv"), r.outputs.response_scores.uri, u.outputs.uplift_scores.uri], { encoding: "utf8" }));
  });

  it("the pipeline ran every step from the source definition, in order, each reading the one before", () => {
    expect(pipeline.status).toBe("succeeded");
    expect(pipeline.steps.map((s: any) => `${s.name}:${s.job}:${s.runId}`)).toEqual([
      "ingest:ingest:it-campaign.ingest", "kpis:kpis:it-campaign.kpis", "response:response:it-campaign.response",
      "uplift:uplift:it-campaign.uplift", "score_uplift:score-uplift:it-campaign.score_uplift", "target:target:it-campaign.target",
    ]);
  });

  it("ingest maps every row onto customers and campaigns, with the arm of each contacted customer", async () => {
    expect(ingest.metrics.ingest.tables.customers).toMatchObject({ read: CUSTOMERS, accepted: CUSTOMERS, rejected: 0 });
    expect(ingest.metrics.ingest.tables.campaigns).toMatchObject({ read: CUSTOMERS, accepted: CUSTOMERS, rejected: 0 });
    expect(ingest.metrics.ingest.absent).toEqual(["transactions", "products", "events"]);
    const campaigns = await readOutput((await manifestOf(root(), "it-campaign.ingest")).outputs.campaigns);
    const arms = new Map<string, number>();
    for (const c of campaigns) arms.set(`${c.test_group}/${c.arm}`, (arms.get(`${c.test_group}/${c.arm}`) ?? 0) + 1);
    const count = (segment: string) => rows.filter((r) => r.segment === segment).length;
    expect(Object.fromEntries(arms)).toEqual({ "treatment/mens": count("Mens E-Mail"), "treatment/womens": count("Womens E-Mail"), "control/null": count("No E-Mail") });
    expect(campaigns.filter((c) => c.responded).length).toBe(rows.filter((r) => r.conversion === "1").length);
  });

  it("each arm's A/B test: the counts are the file's, and the 95% interval of the lift covers the planted effect", async () => {
    const tests = await readOutput((await manifestOf(root(), "it-campaign.kpis")).outputs.ab_tests);
    expect(tests.map((t) => t.arm).sort()).toEqual(["mens", "womens"]);
    const control = rows.filter((r) => r.segment === "No E-Mail");
    const controlRate = control.filter((r) => r.conversion === "1").length / control.length;
    for (const [arm, segment, column] of [["mens", "Mens E-Mail", "p_mens"], ["womens", "Womens E-Mail", "p_womens"]] as const) {
      const t = tests.find((x) => x.arm === arm)!;
      const treated = rows.filter((r) => r.segment === segment);
      const rate = treated.filter((r) => r.conversion === "1").length / treated.length;
      const planted = truth.reduce((s, x) => s + Number(x[column]) - Number(x.p_control), 0) / truth.length;
      console.log(`campaign ${arm}: lift ${Number(t.lift).toFixed(4)} [${Number(t.ci_low).toFixed(4)}, ${Number(t.ci_high).toFixed(4)}], planted ${planted.toFixed(4)}, p=${Number(t.p_value).toExponential(2)}`);
      expect(Number(t.treatment_rows)).toBe(treated.length);
      expect(Number(t.control_rows)).toBe(control.length);
      expect(t.lift).toBeCloseTo(rate - controlRate, 12);
      expect(t.ci_low).toBeLessThanOrEqual(planted);
      expect(t.ci_high).toBeGreaterThanOrEqual(planted);
      expect(t.significant).toBe(true);
    }
  });

  it("KPIs without a segmentation: every contacted customer is unsegmented, the e-mails cost what channel_costs says", async () => {
    const k = await readOutput((await manifestOf(root(), "it-campaign.kpis")).outputs.campaign_kpis);
    const contacted = rows.filter((r) => r.segment !== "No E-Mail");
    const overall = k.find((x) => x.scope === "overall")!;
    expect(Number(overall.contacted)).toBe(contacted.length);
    expect(Number(overall.cost)).toBeCloseTo(contacted.length * 0.1, 6);
    expect(Number(overall.revenue)).toBeCloseTo(contacted.reduce((s, r) => s + Number(r.spend), 0), 4);
    expect(k.filter((x) => x.scope === "segment").map((x) => x.scope_value)).toEqual(["unsegmented"]);
    expect(kpis.checks.every((c: any) => c.passed)).toBe(true);
  });

  it("response learns from the source's customer features: held-out AUC within 0.01 of scikit-learn's logistic regression on the same split", async () => {
    const p = peer.response;
    console.log(`campaign response: held-out AUC logistic ${p.spark_logistic_auc.toFixed(4)}, gbt ${p.spark_gbt_auc.toFixed(4)}, scikit-learn logistic ${p.sklearn_logistic_auc.toFixed(4)} (${p.train} training, ${p.test} test customers)`);
    const manifest = await manifestOf(root(), "it-campaign.response");
    expect(manifest.models.response_logistic.columns).toEqual(expect.arrayContaining(["months_since_purchase", "past_spend", "bought_mens", "bought_womens", "new_customer", "purchase_channel"]));
    expect(p.spark_logistic_auc).toBeCloseTo(response.metrics.response.models.logistic.auc, 9);
    expect(Math.abs(p.spark_logistic_auc - p.sklearn_logistic_auc)).toBeLessThanOrEqual(0.01);
    expect(p.train + p.test).toBe(rows.filter((x) => x.segment !== "No E-Mail").length);
  });

  it("uplift of the men's e-mail: the top 30% by predicted uplift lift more than the average effect; Qini against a scikit-learn two-model learner on the same rows", () => {
    const u = peer.uplift;
    console.log(`campaign uplift: observed lift all ${u.average_lift.toFixed(4)}, top 30% by uplift ${u.top30_lift.toFixed(4)} (scikit-learn's ${u.sklearn_top30_lift.toFixed(4)}); ` +
      `Qini ${u.spark_qini.toFixed(5)} against scikit-learn's ${u.sklearn_qini.toFixed(5)} (${u.test} held-out customers)`);
    const all = uplift.metrics.uplift.all;
    expect(u.test).toBe(all.treatmentRows + all.controlRows);
    // The men's arm and the shared control group, nothing of the women's arm.
    expect(all.treatmentRows).toBeLessThan(rows.filter((x) => x.segment === "Mens E-Mail").length);
    expect(all.treatmentRows + all.controlRows).toBeLessThan(rows.filter((x) => x.segment !== "Womens E-Mail").length);
    expect(u.average_lift).toBeCloseTo(all.lift, 12);
    expect(u.top30_lift).toBeGreaterThan(u.average_lift);
    expect(u.spark_qini).toBeGreaterThan(0);
    expect(u.spark_qini).toBeGreaterThanOrEqual(0.75 * u.sklearn_qini);
  });

  it("score-uplift scores every customer with the saved models, the source's features joined again: the uplift run's own predictions for its customers", async () => {
    const offers = await readOutput((await manifestOf(root(), "it-campaign.score_uplift")).outputs.offer_scores);
    expect(offers.length).toBe(CUSTOMERS);
    expect(new Set(offers.map((o) => `${o.campaign_type}/${o.channel}/${o.segment}`))).toEqual(new Set(["merchandise_email/email/unsegmented"]));
    const scored = await readOutput((await manifestOf(root(), "it-campaign.uplift")).outputs.uplift_scores);
    const byCustomer = new Map(offers.map((o) => [o.customer_id as string, o]));
    let worst = 0;
    for (const s of scored) {
      const o = byCustomer.get(s.customer_id as string)!;
      worst = Math.max(worst, Math.abs(Number(o.p_response) - Number(s.p_treatment)), Math.abs(Number(o.p_control) - Number(s.p_control)));
      expect(o.uplift).toBeCloseTo(Number(o.p_response) - Number(o.p_control), 12);
    }
    console.log(`campaign score-uplift: ${offers.length} customers scored; ${scored.length} of them also scored by the uplift run, largest difference ${worst.toExponential(2)}`);
    expect(scored.length).toBeGreaterThan(7000);
    expect(worst).toBeLessThan(1e-9);
  });

  it("target on the uplift basis: the list is the most profitable contacts within the budget, recounted from the scores and the CSV; its customers' planted uplift is above the average", async () => {
    const offers = await readOutput((await manifestOf(root(), "it-campaign.score_uplift")).outputs.offer_scores);
    const list = await readOutput((await manifestOf(root(), "it-campaign.target")).outputs.target_list);
    const responders = rows.filter((r) => r.conversion === "1");
    const revenuePerResponse = responders.reduce((s, r) => s + Number(r.spend), 0) / responders.length;
    const profit = (o: Record<string, unknown>) => Number(o.uplift) * revenuePerResponse * 0.3 - 0.1;
    const ranked = offers.filter((o) => profit(o) > 0).sort((a, b) => profit(b) - profit(a));
    const expected = ranked.slice(0, Math.floor(BUDGET / 0.1 + 1e-9));
    expect(list.length).toBe(expected.length);
    const listed = new Set(list.map((t) => t.customer_id));
    // Ties at the cut aside, the same customers: everyone listed is at least as profitable as the last one expected.
    const cut = profit(expected[expected.length - 1]!);
    for (const t of list) {
      expect(Number(t.expected_profit)).toBeCloseTo(profit(offers.find((o) => o.customer_id === t.customer_id)!), 9);
      expect(Number(t.expected_profit)).toBeGreaterThanOrEqual(cut - 1e-12);
    }
    expect(expected.filter((o) => !listed.has(o.customer_id) && profit(o) > cut + 1e-12)).toEqual([]);
    const cost = list.reduce((s, t) => s + Number(t.cost), 0);
    expect(cost).toBeLessThanOrEqual(BUDGET + 1e-9);
    const planted = new Map(truth.map((t) => [t.customer_id, Number(t.p_mens) - Number(t.p_control)]));
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const listedUplift = mean(list.map((t) => planted.get(t.customer_id as string)!));
    const allUplift = mean([...planted.values()]);
    console.log(`campaign target: ${list.length} contacts for ${cost.toFixed(2)} of ${BUDGET}; planted uplift of the listed ${listedUplift.toFixed(4)} vs all ${allUplift.toFixed(4)}; revenue per response ${revenuePerResponse.toFixed(2)}`);
    expect(listedUplift).toBeGreaterThan(1.5 * allUplift);

    // What a person reads: the same step run again by hand is reused (no Spark) and prints the list's summary.
    const again = cli(["run", "target", "--param", "scores=it-campaign.score_uplift", "--param", "source=it-campaign.ingest", "--param", "basis=uplift",
      "--param", "campaign_type=merchandise_email", "--param", `budget=${BUDGET}`, "--run-id", "it-campaign.target"]);
    expect(again.code, again.stderr.slice(-2000)).toBe(0);
    expect(again.stdout).toContain("was already complete");
    const listedProfit = list.reduce((s, t) => s + Number(t.expected_profit), 0);
    const line = again.stdout.split("\n")[again.stdout.split("\n").findIndex((l) => l.startsWith("targeting list (merchandise_email, uplift basis):")) + 3]!;
    const cells = line.trim().split(/\s{2,}/);
    const number = (i: number) => Number(cells[i]!.replace(/,/g, ""));
    expect(cells).toHaveLength(7);
    expect([number(0), number(2), cells[6]]).toEqual([list.length, BUDGET, `email ${list.length}`]);
    expect(number(1)).toBeCloseTo(cost, 2);
    expect(number(4)).toBeCloseTo(listedProfit, 1);
    expect(number(5)).toBeCloseTo(listedProfit / cost, 2);
  });

  it("the files are unchanged (sha256 before and after)", () => {
    expect(Object.fromEntries(readdirSync(dir).map((f) => [f, sha256(join(dir, f))]))).toEqual(checksums);
  });
});
