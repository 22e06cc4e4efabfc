/**
 * PCA of the customer features against scikit-learn's PCA on the same standardised features.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { cliJson, ensureSegmentation, manifestOf, PIPELINE, python, repo, root, SEG } from "./helpers.js";

describe("customer-pca", () => {
  it("explains the same variance as scikit-learn and projects the customers the same way (up to sign)", async () => {
    ensureSegmentation();
    const runId = `${PIPELINE}.pca`;
    const r = cliJson(["run", "customer-pca", "--param", `segments=${SEG.runId}`, "--run-id", runId]);
    expect(r.result.code, r.result.stderr.slice(-3000)).toBe(0);
    const m = r.json.metrics.pca;
    const config = parse(readFileSync(join(repo, "jobs", "mllib-configs", "pca_customer_features.yaml"), "utf8"));
    const seg = await manifestOf(root(), SEG.runId);
    const manifest = await manifestOf(root(), runId);
    const peer = spawnSync(python(), [join(repo, "tests", "integration", "sklearn_pca.py"), seg.outputs.customer_features.uri,
      manifest.outputs.segment_map.uri, String(config.components), config.features.join(","), config.log1p.join(",")], { encoding: "utf8" });
    expect(peer.status, peer.stderr.slice(-2000)).toBe(0);
    const sk = JSON.parse(peer.stdout);
    console.log(`pca: explained variance ${m.explainedVariance.map((v: number) => v.toFixed(4)).join(", ")}; scikit-learn ` +
      `${sk.explainedVarianceRatio.map((v: number) => v.toFixed(4)).join(", ")}; largest projection difference ${sk.projectionDifference.toExponential(2)}`);
    m.explainedVariance.forEach((v: number, i: number) => expect(v).toBeCloseTo(sk.explainedVarianceRatio[i], 6));
    expect(sk.projectionDifference).toBeLessThan(1e-6);
    expect(r.json.outputs.segment_map.rows).toBe(seg.outputs.customer_features.rows);
    expect(r.json.checks[0]).toMatchObject({ name: "two_components_explain_half", passed: true });
  });
});
