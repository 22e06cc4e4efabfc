/**
 * npm run bench [-- --scale S|M|L[,..]] : sparkjobs beside what a user would otherwise run, in one run
 * on this machine, every figure a ratio of two things measured here and now. Writes
 * bench/results.json and docs/benchmarks.md.
 *
 *   1. pipeline / bare scan: customer-segmentation (clean + features + K-Means) against Spark only
 *      reading the same input (bench/peers/bare_scan.py), wall time of each spark-submit
 *   2. the same segmentation with pandas + scikit-learn (bench/peers/pandas_segmentation.py) on the same
 *      files: wall time and peak memory of each, and whether they found the same segments
 *   3. K-Means against scikit-learn on the same vectors (bench/peers/sklearn_kmeans.py): inertia and
 *      the time of one fit; GBT against XGBoost on the response job's split (bench/peers/xgboost_response.py)
 *   4. submitter overhead: `sparkjobs run` against a bare spark-submit of the runner on the same plan
 *   6. CLI start: `sparkjobs --help` against `node -e 0`
 *   7. scaling: wall time and the driver's peak memory (the spark-submit process tree) at each scale
 * Not measured yet (listed as such in the table): 5. reading back and validating a 10M-row output
 * against a bare Arrow decode.
 *
 * Data: `generate` at the scale, under --root (default ~/.cache/sparkjobs/bench/root), made once per
 * scale and reused; every timed run gets a fresh run id.
 *
 *   node dist/bench/suite.js [--scale S] [--root DIR] [--customers N] [--cli-reps 11]
 *
 * --customers overrides the scale's customer count (a quick check; the results say so).
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { cacheDir, pythonPath, sparkSubmitPath } from "../submitter/src/env/where.js";

const repo = join(import.meta.dirname, "..", "..");
const cli = join(repo, "dist", "submitter", "src", "cli.js");
const SCALES: Record<string, number> = { S: 10_000, M: 100_000, L: 1_000_000 };
const PAGE = 4096;

interface Measured {
  ms: number;
  code: number | null;
  stdout: string;
  stderr: string;
  /** Peak of the summed resident memory of the process and all its descendants, sampled every 100 ms. */
  peakRssMiB: number;
}

/** Resident memory of pid and its descendants, from /proc. */
function treeRss(root: number): number {
  const parent = new Map<number, number>();
  const rss = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parent.set(Number(name), Number(fields[1]));
      rss.set(Number(name), Number(fields[21]) * PAGE);
    } catch {
      // the process ended while we looked
    }
  }
  let total = 0;
  for (const [pid, bytes] of rss) {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parent.get(p)) {
      if (p === root) {
        total += bytes;
        break;
      }
    }
  }
  return total;
}

function measure(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: repo, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let peak = 0;
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setInterval(() => (peak = Math.max(peak, treeRss(child.pid!))), 100);
    child.on("error", reject);
    child.on("close", (code) => {
      clearInterval(timer);
      resolve({ ms: performance.now() - t0, code, stdout, stderr, peakRssMiB: peak / 2 ** 20 });
    });
  });
}

function must(m: Measured, what: string): Measured {
  if (m.code !== 0) throw new Error(`${what} failed (exit ${m.code}):\n${m.stderr.slice(-3000)}`);
  return m;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface Figure {
  id: string;
  what: string;
  scale: string;
  a: { label: string; value: number; unit: string };
  b: { label: string; value: number; unit: string };
  ratio: number;
  target?: string;
  met?: boolean | null;
  note?: string;
}

function options(argv: string[]) {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const scales = (get("--scale") ?? "S").split(",").map((s) => s.trim().toUpperCase());
  for (const s of scales) if (!SCALES[s]) throw new Error(`--scale ${s}: use S, M or L (or a list: S,M)`);
  return {
    scales,
    root: get("--root") ?? join(cacheDir(), "bench", "root"),
    customers: get("--customers") ? Number(get("--customers")) : undefined,
    cliReps: Number(get("--cli-reps") ?? 11),
  };
}

async function main() {
  const opt = options(process.argv.slice(2));
  mkdirSync(opt.root, { recursive: true });
  const env = { SPARKJOBS_ROOT: opt.root };
  const sparkjobs = (args: string[]) => measure(process.execPath, [cli, ...args], env);
  const python = pythonPath();
  const sparkSubmit = sparkSubmitPath();
  const sparkEnv = { PYSPARK_PYTHON: python, PYSPARK_DRIVER_PYTHON: python, SPARK_LOCAL_IP: "127.0.0.1" };
  const manifest = (runId: string) => JSON.parse(readFileSync(join(opt.root, "runs", runId, "_manifest.json"), "utf8"));
  const kmeans = parseYaml(readFileSync(join(repo, "jobs", "mllib-configs", "kmeans_segmentation.yaml"), "utf8"));
  const figures: Figure[] = [];
  const scaleRuns: Record<string, unknown>[] = [];
  let sparkVersion = "?";
  const stamp = new Date().toISOString().replace(/[-:T.Z]/g, "").slice(0, 14);
  const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

  for (const scale of opt.scales) {
    const customers = opt.customers ?? SCALES[scale]!;
    const prefix = `bench-${scale}-c${customers}`;
    const gen = `${prefix}.generate`;
    log(`${scale}: generate ${customers} customers (${gen}; reused when complete)`);
    must(await sparkjobs(["run", "generate", "--param", `customers=${customers}`, "--run-id", gen, "--json"]), "generate");
    const g = manifest(gen);
    const inputs = { transactions: g.outputs.transactions.rows, events: g.outputs.events.rows };

    // 1, 4, 7: the segmentation pipeline through the submitter.
    const segId = `${prefix}.seg-${stamp}`;
    log(`${scale}: sparkjobs run customer-segmentation (${segId})`);
    const seg = must(await sparkjobs(["run", "customer-segmentation", "--param", `source=${gen}`, "--run-id", segId, "--json"]), "customer-segmentation");
    const segManifest = manifest(segId);
    const segMetrics = segManifest.metrics.segmentation;

    // 4: the same plan, staged for another run id, run by a bare spark-submit.
    const bareId = `${prefix}.bare-${stamp}`;
    const staged = JSON.parse(must(await sparkjobs(["stage", "customer-segmentation", "--param", `source=${gen}`, "--run-id", bareId, "--json"]), "stage").stdout);
    const stepArgs: string[] = staged.emrStep.HadoopJarStep.Args;
    if (stepArgs[0] !== "spark-submit" || stepArgs[1] !== "--deploy-mode") throw new Error(`unexpected step arguments: ${stepArgs.slice(0, 3).join(" ")}`);
    log(`${scale}: bare spark-submit of the same plan (${bareId})`);
    const bare = must(await measure(sparkSubmit, ["--master", "local[*]", "--driver-memory", "2g", ...stepArgs.slice(3)], sparkEnv), "bare spark-submit");

    // 1: Spark reading the same input and nothing else.
    log(`${scale}: bare scan of transactions and events`);
    const scan = must(await measure(sparkSubmit, ["--master", "local[*]", "--driver-memory", "2g", "--conf", "spark.ui.enabled=false",
      join(repo, "bench", "peers", "bare_scan.py"), g.outputs.transactions.uri, g.outputs.events.uri], sparkEnv), "bare scan");
    const scanSeconds = JSON.parse(scan.stdout.trim().split("\n").at(-1)!).seconds as number;

    // 2: the single-machine stack on the same files.
    log(`${scale}: pandas + scikit-learn segmentation`);
    const pandasRun = must(await measure(python, [join(repo, "bench", "peers", "pandas_segmentation.py"),
      "--transactions", g.outputs.transactions.uri, "--events", g.outputs.events.uri, "--compare", segManifest.outputs.customer_segments.uri]), "pandas peer");
    const pandasPeer = JSON.parse(pandasRun.stdout.trim().split("\n").at(-1)!);

    // 3: scikit-learn's KMeans on the same vectors.
    log(`${scale}: scikit-learn KMeans at k=${segMetrics.k}`);
    const sk = JSON.parse(must(await measure(python, [join(repo, "bench", "peers", "sklearn_kmeans.py"),
      "--features", segManifest.outputs.customer_features.uri, "--segments", segManifest.outputs.customer_segments.uri,
      "--k", String(segMetrics.k), "--columns", kmeans.features.join(","), "--log1p", kmeans.log1p.join(",")]), "sklearn KMeans").stdout);
    const sparkFit = segMetrics.fitSecondsByK[String(segMetrics.k)] / segMetrics.restarts;

    // 3: GBT against XGBoost on the response job's features and split.
    const segRef = `${prefix}.segments`;
    must(await sparkjobs(["run", "customer-segmentation", "--param", `source=${gen}`, "--run-id", segRef, "--json"]), "customer-segmentation (for response)");
    const respId = `${prefix}.response`;
    log(`${scale}: response (${respId}; reused when complete) and XGBoost on the same split`);
    must(await sparkjobs(["run", "response", "--param", `source=${gen}`, "--param", `segments=${segRef}`, "--run-id", respId, "--json"]), "response");
    const xgbOut = must(await measure(python, [join(repo, "bench", "peers", "xgboost_response.py"), "--root", opt.root, "--run", respId], sparkEnv), "XGBoost peer").stdout;
    const xgb = JSON.parse(xgbOut.slice(xgbOut.indexOf("{")));

    const m = scale === "M";
    figures.push(
      { id: "pipeline-vs-scan", what: "clean + features + segmentation against reading the same input", scale,
        a: { label: "sparkjobs run customer-segmentation", value: seg.ms / 1000, unit: "s" },
        b: { label: "spark-submit bare_scan.py", value: scan.ms / 1000, unit: "s" }, ratio: seg.ms / scan.ms,
        target: "within 3x at M", met: m ? seg.ms / scan.ms <= 3 : null,
        note: `inside Spark: ${(segManifest.durationMs / 1000).toFixed(1)} s against ${scanSeconds.toFixed(1)} s (${(segManifest.durationMs / 1000 / scanSeconds).toFixed(1)}x)` },
      { id: "pandas-time", what: "segmentation against pandas + scikit-learn on the same files: wall time", scale,
        a: { label: "sparkjobs run customer-segmentation", value: seg.ms / 1000, unit: "s" },
        b: { label: "pandas + scikit-learn", value: pandasRun.ms / 1000, unit: "s" }, ratio: seg.ms / pandasRun.ms,
        note: `same result: ${pandasPeer.kept.transactions} clean lines against ${segManifest.outputs.clean_transactions.rows}, ` +
          `${pandasPeer.customers} customers against ${segManifest.outputs.customer_features.rows}, k ${pandasPeer.k} against ${segMetrics.k}, ` +
          `adjusted Rand index ${pandasPeer.agreement.adjustedRandIndex.toFixed(4)}` },
      { id: "pandas-memory", what: "segmentation against pandas + scikit-learn: peak memory (process tree)", scale,
        a: { label: "sparkjobs (spark-submit tree)", value: seg.peakRssMiB, unit: "MiB" },
        b: { label: "pandas + scikit-learn", value: pandasRun.peakRssMiB, unit: "MiB" }, ratio: seg.peakRssMiB / pandasRun.peakRssMiB },
      { id: "kmeans-inertia", what: "K-Means inertia on the same vectors", scale,
        a: { label: `Spark ML (best of ${segMetrics.restarts} seeded k-means|| fits)`, value: sk.sparkInertia, unit: "" },
        b: { label: `scikit-learn KMeans (n_init=${sk.sklearnNInit})`, value: sk.sklearnInertia, unit: "" }, ratio: sk.sparkInertia / sk.sklearnInertia,
        target: "within 1% (ratio <= 1.01)", met: sk.sparkInertia / sk.sklearnInertia <= 1.01,
        note: `k=${sk.k}, ${sk.rows} customers; manifest inertia ${segMetrics.inertia.toFixed(2)}` },
      { id: "kmeans-time", what: "time of one K-Means fit on the same vectors", scale,
        a: { label: "Spark ML", value: sparkFit, unit: "s" }, b: { label: "scikit-learn", value: sk.sklearnFitSeconds, unit: "s" },
        ratio: sparkFit / sk.sklearnFitSeconds },
      { id: "gbt-vs-xgboost", what: "response model: held-out AUC and fit time on the same features and split", scale,
        a: { label: "Spark GBT", value: xgb.sparkGbt.fitSeconds, unit: "s" }, b: { label: `XGBoost ${xgb.xgboost.version}`, value: xgb.xgboost.fitSeconds, unit: "s" },
        ratio: xgb.sparkGbt.fitSeconds / xgb.xgboost.fitSeconds, target: "AUC within 0.01", met: Math.abs(xgb.sparkGbt.auc - xgb.xgboost.auc) <= 0.01,
        note: `AUC ${xgb.sparkGbt.auc.toFixed(4)} against ${xgb.xgboost.auc.toFixed(4)}; ${xgb.testRows} test rows` },
      { id: "submitter-overhead", what: "sparkjobs run against a bare spark-submit of the runner on the same plan", scale,
        a: { label: "sparkjobs run", value: seg.ms / 1000, unit: "s" }, b: { label: "bare spark-submit", value: bare.ms / 1000, unit: "s" },
        ratio: seg.ms / bare.ms, target: "overhead under 10% (ratio < 1.10)", met: seg.ms / bare.ms < 1.1 },
    );
    sparkVersion = segManifest.engine.sparkVersion;
    scaleRuns.push({ scale, customers, inputs, wallSeconds: seg.ms / 1000, sparkSeconds: segManifest.durationMs / 1000,
      driverPeakMiB: seg.peakRssMiB, bareSparkSubmitPeakMiB: bare.peakRssMiB });
  }

  // 6: CLI start, alternating so both see the same machine.
  log(`CLI start: ${opt.cliReps} runs each of sparkjobs --help and node -e 0`);
  const help: number[] = [];
  const bareNode: number[] = [];
  for (let i = 0; i < opt.cliReps; i++) {
    help.push(must(await measure(process.execPath, [cli, "--help"]), "sparkjobs --help").ms);
    bareNode.push(must(await measure(process.execPath, ["-e", "0"]), "node -e 0").ms);
  }
  figures.push({ id: "cli-start", what: "CLI start", scale: "-", a: { label: "sparkjobs --help", value: median(help), unit: "ms" },
    b: { label: "node -e 0", value: median(bareNode), unit: "ms" }, ratio: median(help) / median(bareNode),
    target: "within 3x", met: median(help) / median(bareNode) <= 3, note: `median of ${opt.cliReps}` });

  // 7: the driver's peak memory must not grow with the data.
  const byScale = new Map(scaleRuns.map((r) => [r.scale as string, r]));
  if (byScale.has("S") && byScale.has("M")) {
    const s = byScale.get("S")!, mm = byScale.get("M")!;
    figures.push({ id: "driver-memory", what: "driver peak memory (spark-submit process tree), M against S", scale: "S->M",
      a: { label: "M", value: mm.driverPeakMiB as number, unit: "MiB" }, b: { label: "S", value: s.driverPeakMiB as number, unit: "MiB" },
      ratio: (mm.driverPeakMiB as number) / (s.driverPeakMiB as number), target: "flat (ratio <= 1.25)",
      met: (mm.driverPeakMiB as number) / (s.driverPeakMiB as number) <= 1.25 });
  }

  const java = spawnSync("java", ["-version"], { encoding: "utf8" }).stderr.split("\n")[0] ?? "";
  const machine = {
    cores: cpus().length, memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10, node: process.version, java,
    spark: sparkVersion, date: new Date().toISOString(),
  };
  const results = { machine, scales: scaleRuns, figures, customersOverride: opt.customers ?? null,
    notMeasured: ["reading back and validating a 10M-row output against a bare Arrow decode; the submitter's peak memory while doing it"] };
  mkdirSync(join(repo, "bench"), { recursive: true });
  writeFileSync(join(repo, "bench", "results.json"), JSON.stringify(results, null, 2) + "\n");
  writeFileSync(join(repo, "docs", "benchmarks.md"), markdown(results));
  log(`wrote bench/results.json and docs/benchmarks.md`);
  for (const f of figures) log(`${f.id} (${f.scale}): ${f.ratio.toFixed(3)}x${f.met === undefined ? "" : f.met === null ? " (target judged at another scale)" : f.met ? " (target met)" : " (target missed)"}`);
}

function fmt(v: number, unit: string): string {
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : Math.abs(v) >= 1 ? 2 : 3;
  return `${v.toFixed(digits)}${unit ? ` ${unit}` : ""}`;
}

/** A table cell: a | inside would end the cell. */
const cell = (s: string) => s.replace(/\|/g, "\\|");

function markdown(r: { machine: any; scales: any[]; figures: Figure[]; customersOverride: number | null; notMeasured: string[] }): string {
  const m = r.machine;
  const lines = [
    "# Benchmarks",
    "",
    "Written by `npm run bench` (bench/suite.ts); the raw numbers are in bench/results.json. Each ratio divides two",
    "things measured in the same run on the same machine.",
    "",
    `Machine: ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.java}, Spark (pyspark) ${m.spark}; ${m.date}.`,
    ...(r.customersOverride ? ["", `**Quick check: scales overridden to ${r.customersOverride} customers.**`] : []),
    "",
    "| scale | customers | transactions | events | wall (s) | inside Spark (s) | driver peak (MiB) |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...r.scales.map((s) => `| ${s.scale} | ${s.customers} | ${s.inputs.transactions} | ${s.inputs.events} | ${s.wallSeconds.toFixed(1)} | ${s.sparkSeconds.toFixed(1)} | ${s.driverPeakMiB.toFixed(0)} |`),
    "",
    "| figure | scale | sparkjobs side | peer side | ratio | target | met |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...r.figures.map((f) => `| ${cell(f.what)}${f.note ? ` (${cell(f.note)})` : ""} | ${f.scale} | ${cell(f.a.label)}: ${fmt(f.a.value, f.a.unit)} | ${cell(f.b.label)}: ${fmt(f.b.value, f.b.unit)} | ${f.ratio.toFixed(3)} | ${f.target ?? "-"} | ${f.met === undefined ? "-" : f.met === null ? "judged at M" : f.met ? "yes" : "**no**"} |`),
    "",
    "Not measured yet:",
    ...r.notMeasured.map((x) => `- ${x}`),
    "",
  ];
  return lines.join("\n");
}

main().catch((e) => {
  process.stderr.write(`[bench] ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
