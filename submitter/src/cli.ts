#!/usr/bin/env node
/**
 * sparkjobs CLI: the only place that prints and picks exit codes. Logs go to stderr; with --json
 * stdout carries exactly one JSON object.
 */
import { Command, CommanderError, Option } from "commander";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { EXIT_CODES, formatError, SparkjobsError } from "./errors.js";
import { packageRoot } from "./env/where.js";
import { checkRunId, checkSeries, resolveRoot } from "./config/locations.js";
import type { Backend } from "./backends/types.js";
import { ProgressLine } from "./report/progress.js";

interface CommonOptions {
  root: string;
  jobsDir?: string;
  json?: boolean;
}

const SHIPPED_JOBS = join(packageRoot, "jobs");
let jobsFolders: readonly string[] | undefined;
/** The shipped jobs, with the team's folder (--jobs-dir) before them; a name in both is said once. */
function jobsDirs(opts: { jobsDir?: string }): readonly string[] {
  if (jobsFolders) return jobsFolders;
  const own = opts.jobsDir ? resolve(opts.jobsDir) : undefined;
  if (own !== undefined && !existsSync(own)) throw new SparkjobsError("usage", `--jobs-dir ${opts.jobsDir} does not exist`, { fix: "pass the folder that holds your job definitions (its spark-sql/, mllib-configs/ and pipelines/ beside them)" });
  jobsFolders = own === undefined || own === SHIPPED_JOBS ? [SHIPPED_JOBS] : [own, SHIPPED_JOBS];
  return jobsFolders;
}
async function sayReplaced(dirs: readonly string[]) {
  const { replacedNames } = await import("./config/job.js");
  const replaced = replacedNames(dirs);
  if (replaced.length) log(`${dirs[0]} replaces the shipped ${replaced.join(", ")}`);
}

interface TargetFlags {
  target: string;
  master?: string;
  conf: string[];
  clusterId?: string;
  transientCluster?: string;
  applicationId?: string;
  executionRoleArn?: string;
  logUri?: string;
  logWait?: string;
  pollMax?: string;
  region?: string;
  deployMode?: string;
  queue?: string;
  principal?: string;
  keytab?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];
/** stderr, shared by the CLI's own lines, the runner's, and its progress line (report/progress.ts). */
const progress = new ProgressLine(process.stderr);
const log = (message: string) => progress.write(`[sparkjobs] ${message}`);

function common(cmd: Command, json = true, root = true): Command {
  if (root) cmd.addOption(new Option("--root <dir|s3://...>", "storage root, a folder or an s3:// prefix: runs and staged code live under it").env("SPARKJOBS_ROOT").default("sparkjobs-data"));
  cmd
    .addOption(
      new Option("--jobs-dir <dir>", "your folder of job definitions (with spark-sql/, mllib-configs/, pipelines/), added to the shipped jobs; yours win on a name in both")
        .env("SPARKJOBS_JOBS_DIR"),
    );
  return json ? cmd.option("--json", "print one JSON object on stdout") : cmd;
}

function withParams(cmd: Command): Command {
  return cmd
    .addOption(new Option("-p, --param <name=value>", "job parameter (repeatable)").argParser(collect).default([] as string[], "none"))
    .addOption(new Option("--run-id <id>", "run id (1-64 of A-Z a-z 0-9 . _ -); the same id with the same plan never runs twice").argParser((id: string) => checkRunId(id)))
    .addOption(
      new Option("--series <name>", "history series (1-64 of A-Z a-z 0-9 . _ -): drift gates compare with the previous run of the job in it, one series per dataset you run the job on")
        .env("SPARKJOBS_SERIES")
        .default("default")
        .argParser((name: string) => checkSeries(name)),
    );
}

function targetFlags(cmd: Command): Command {
  return cmd
    .addOption(new Option("--target <name>", "where Spark runs").choices(["local", "standalone", "yarn", "emr", "emr-serverless"]).env("SPARKJOBS_TARGET").default("local"))
    .addOption(new Option("--master <url>", "Spark master: local[N] (local), spark://host:port (standalone)").env("SPARKJOBS_MASTER"))
    .addOption(new Option("-c, --conf <key=value>", "Spark setting for this target (repeatable); the job's own sparkConf wins").argParser(collect).default([] as string[], "none"))
    .addOption(new Option("--deploy-mode <mode>", "yarn: cluster (the driver on the cluster) or client (the driver here)").choices(["cluster", "client"]).env("SPARKJOBS_DEPLOY_MODE"))
    .addOption(new Option("--queue <name>", "yarn: the scheduler queue").env("SPARKJOBS_YARN_QUEUE"))
    .addOption(new Option("--principal <name>", "yarn: Kerberos principal (with --keytab)").env("SPARKJOBS_PRINCIPAL"))
    .addOption(new Option("--keytab <file>", "yarn: keytab of --principal").env("SPARKJOBS_KEYTAB"))
    .addOption(new Option("--cluster-id <id>", "emr: the cluster to add the step to (j-...)").env("SPARKJOBS_EMR_CLUSTER_ID"))
    .addOption(new Option("--transient-cluster <file>", "emr: start a cluster for this run from a YAML definition; it ends with the run"))
    .addOption(new Option("--application-id <id>", "emr-serverless: the application").env("SPARKJOBS_EMR_SERVERLESS_APPLICATION_ID"))
    .addOption(new Option("--execution-role-arn <arn>", "emr (runtime role) and emr-serverless (job role)").env("SPARKJOBS_EXECUTION_ROLE_ARN"))
    .addOption(new Option("--log-uri <uri>", "emr-serverless: s3:// prefix for driver logs").env("SPARKJOBS_LOG_URI"))
    .addOption(new Option("--log-wait <seconds>", "yarn, emr, emr-serverless: how long to wait for logs after a failure").env("SPARKJOBS_LOG_WAIT"))
    .addOption(new Option("--poll-max <seconds>", "longest wait between two status checks of a run (default 0.25 local and standalone, 2 yarn, 15 emr and emr-serverless)").env("SPARKJOBS_POLL_MAX"))
    .addOption(new Option("--region <region>", "AWS region of every AWS call and of Spark's S3A settings (default: AWS_REGION)"));
}

let storage: import("./stage/storage.js").Storage | undefined;
async function storageFor() {
  if (storage) return storage;
  const { LocalStorage, RoutedStorage } = await import("./stage/storage.js");
  const { S3Storage, s3ClientFromEnv } = await import("./stage/s3.js");
  const { awsClientConfig } = await import("./aws/config.js");
  const endpoint = awsClientConfig("S3").endpoint;
  const { WebHdfsStorage } = await import("./stage/webhdfs.js");
  storage = new RoutedStorage(
    new LocalStorage(),
    () => new S3Storage(s3ClientFromEnv(), endpoint ? { endpoint } : {}),
    () => new WebHdfsStorage(),
  );
  return storage;
}

async function backendFrom(opts: TargetFlags & { root: string }) {
  const { backendFor } = await import("./backends/targets.js");
  const { parseConfArgs } = await import("./config/params.js");
  let logWaitSeconds: number | undefined;
  if (opts.logWait !== undefined) {
    logWaitSeconds = Number(opts.logWait);
    if (!Number.isFinite(logWaitSeconds) || logWaitSeconds < 0) throw new SparkjobsError("usage", `--log-wait ${opts.logWait} is not a number of seconds`);
  }
  return backendFor(
    {
      target: opts.target,
      root: opts.root,
      conf: parseConfArgs(opts.conf),
      ...(opts.master ? { master: opts.master } : {}),
      ...(opts.clusterId ? { clusterId: opts.clusterId } : {}),
      ...(opts.transientCluster ? { transientCluster: opts.transientCluster } : {}),
      ...(opts.applicationId ? { applicationId: opts.applicationId } : {}),
      ...(opts.executionRoleArn ? { executionRoleArn: opts.executionRoleArn } : {}),
      ...(opts.logUri ? { logUri: opts.logUri } : {}),
      ...(logWaitSeconds !== undefined ? { logWaitSeconds } : {}),
      ...(opts.region ? { region: opts.region } : {}),
      ...(opts.deployMode ? { deployMode: opts.deployMode } : {}),
      ...(opts.queue ? { queue: opts.queue } : {}),
      ...(opts.principal ? { principal: opts.principal } : {}),
      ...(opts.keytab ? { keytab: opts.keytab } : {}),
      onLog: (line) => (line.startsWith("[progress]") ? progress.update(line) : progress.write(line)),
      log,
    },
    await storageFor(),
  );
}

/** The HTML report of run `id` (or of the steps of pipeline run `id`) under `root`, to `output` or <root>/reports/<id>.html. */
async function writeReport(root: string, id: string, output?: string): Promise<{ report: string; runs: string[]; bytes: number }> {
  const { readReportRuns, reportHtml } = await import("./report/html.js");
  const { joinUri } = await import("./plan/build.js");
  const storage = await storageFor();
  const runs = await readReportRuns(storage, root, id);
  if (!runs.length) {
    throw new SparkjobsError("input", `no complete run ${id} under ${root}, and no complete step of a pipeline run ${id} (runs named ${id}.<step>)`, {
      fix: "pass the id of a complete run or pipeline run (sparkjobs run or pipeline --run-id), and the --root it ran under",
    });
  }
  const html = reportHtml({
    title: runs.length > 1 || runs[0]!.step ? `Pipeline run ${id}` : `${runs[0]!.manifest.job.name}: run ${id}`,
    subtitle: runs.length > 1 ? `${runs.length} steps: ${runs.map((r) => r.step ?? r.manifest.job.name).join(", ")}` : `under ${root}`,
    runs,
    generatedAt: new Date().toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC"),
  });
  const report = output ? resolve(output) : joinUri(root, "reports", `${id}.html`);
  await storage.put(report, html);
  return { report, runs: runs.map((r) => r.manifest.runId), bytes: Buffer.byteLength(html) };
}

/** --json promises exactly one object on stdout: an error after it is reported on stderr only. */
let jsonPrinted = false;
function printJson(value: unknown) {
  jsonPrinted = true;
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

async function printRunSummary(result: import("./run.js").RunResult) {
  const { textTable, segmentTable } = await import("./report/table.js");
  const out: string[] = [];
  out.push(`run ${result.runId} (${result.job} on ${result.target}) ${result.reused ? "was already complete" : "succeeded"} in ${(result.durationMs / 1000).toFixed(1)} s`);
  out.push("");
  out.push(textTable(["output", "rows", "uri"], Object.entries(result.outputs).map(([n, o]) => [n, o.rows, o.uri]), ["left", "right", "left"]));
  const profiles = Object.entries(result.manifest.outputs).find(([, o]) => o.table === "segment_profiles");
  if (profiles) {
    const { readSmallTable } = await import("./results/parquet.js");
    const rows: Record<string, unknown>[] = [];
    for (const f of profiles[1].files) rows.push(...(await readSmallTable(await storageFor(), `${profiles[1].uri}/${f.path}`)));
    const seg = Object.values(result.metrics).find((m): m is Record<string, unknown> => typeof m === "object" && m !== null && "silhouette" in m);
    out.push("");
    out.push(`segments${seg ? ` (k=${seg.k}, silhouette ${Number(seg.silhouette).toFixed(3)}${typeof seg.ari === "number" ? `, adjusted Rand index vs planted ${seg.ari.toFixed(3)}` : ""})` : ""}:`);
    out.push(segmentTable(rows.map((r) => ({ ...r, customers: Number(r.customers) })) as never));
  }
  // What the run found: the headline numbers of its models, tests and rules.
  const { headlineTables, abTestTable } = await import("./report/headlines.js");
  for (const table of headlineTables(result.metrics)) out.push("", table);
  for (const [name, o] of Object.entries(result.manifest.outputs).filter(([, o]) => o.table === "ab_tests")) {
    const { readSmallTable } = await import("./results/parquet.js");
    const rows: Record<string, unknown>[] = [];
    for (const f of o.files) rows.push(...(await readSmallTable(await storageFor(), `${o.uri}/${f.path}`)));
    out.push("", `${name}:`, abTestTable(rows));
  }
  const ingest = result.metrics.ingest as { absent: string[]; tables: Record<string, import("./sources/sample.js").TableCounts & { firstDay?: string; lastDay?: string }> } | undefined;
  if (ingest) {
    out.push("");
    out.push(textTable(
      ["table", "read", "filtered", "accepted", "rejected", "first day", "last day", "rules broken"],
      Object.entries(ingest.tables).map(([name, t]) => [name, t.read, t.filtered, t.accepted, t.rejected, t.firstDay ?? "", t.lastDay ?? "", t.rules.map((r) => `${r.rule}${r.column ? ` (${r.column})` : ""} ${r.rows}`).join(", ") || "none"]),
      ["left", "right", "right", "right", "right", "left", "left", "left"],
    ));
    if (ingest.absent.length) out.push("", `declared absent: ${ingest.absent.join(", ")}`);
  }
  const target = (result.metrics.target as Record<string, unknown>[] | undefined)?.[0];
  if (target && "expected_profit" in target) {
    const money = (v: unknown) => (v === null || v === undefined ? "-" : Number(v).toLocaleString("en-US", { maximumFractionDigits: 2 }));
    const contacts = Object.entries((target.contacts ?? {}) as Record<string, number>).map(([c, n]) => `${c} ${n}`).join(", ");
    out.push("", `targeting list (${target.campaign_type}, ${target.basis} basis):`);
    out.push(textTable(
      ["customers", "cost", "budget", "expected revenue", "expected profit", "ROI", "contacts"],
      [[Number(target.customers), money(target.cost), money(target.budget), money(target.expected_revenue), money(target.expected_profit), target.expected_roi === null ? "-" : Number(target.expected_roi).toFixed(2), contacts || "none"]],
      ["right", "right", "right", "right", "right", "right", "left"],
    ));
  }
  if (result.checks.length) {
    out.push("");
    const { outcomeLabel } = await import("./results/checks.js");
    out.push(textTable(["check", "result", "detail"], result.checks.map((c) => [c.name, outcomeLabel(c), c.detail])));
  }
  process.stdout.write(`${out.join("\n")}\n`);
}

export function buildProgram(): Command {
  const program = new Command("sparkjobs")
    .description("Plan, launch and validate typed Spark SQL and MLlib jobs for customer analytics.")
    .version(process.env.npm_package_version ?? "0.1.0")
    .showHelpAfterError()
    .exitOverride()
    // --region is the region of every AWS client of the command, the S3 client and Spark's S3A settings included.
    .hook("preAction", (_program, action) => {
      const region = (action.opts() as { region?: string }).region;
      if (region === undefined) return;
      if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
        throw new SparkjobsError("usage", `--region ${JSON.stringify(region)} is not an AWS region`, { fix: "give a region code such as eu-west-1 or us-east-1" });
      }
      process.env.AWS_REGION = region;
    });

  common(program.command("list").description("list the jobs and pipelines and their parameters")).action(async (opts: CommonOptions) => {
    const { listJobs, loadJob } = await import("./config/job.js");
    const dirs = jobsDirs(opts);
    await sayReplaced(dirs);
    const jobs = listJobs(dirs).map((name) => {
      const def = loadJob(dirs, name).definition;
      return { name, version: def.version, description: def.description.trim(), params: def.params, outputs: Object.keys(def.outputs) };
    });
    const { listPipelines, loadPipeline } = await import("./pipeline.js");
    const pipelines = listPipelines(dirs).map((name) => {
      const def = loadPipeline(dirs, name).definition;
      return { name, version: def.version, description: def.description.trim(), params: def.params, steps: def.steps.map((s) => ({ name: s.name, job: s.job })) };
    });
    if (opts.json) return printJson({ jobs, pipelines });
    const { textTable } = await import("./report/table.js");
    process.stdout.write(`${textTable(["job", "params", "outputs"], jobs.map((j) => [j.name, Object.keys(j.params).join(", "), j.outputs.join(", ")]))}\n`);
    if (pipelines.length) {
      process.stdout.write(`\n${textTable(["pipeline", "params", "steps"], pipelines.map((p) => [p.name, Object.keys(p.params).join(", "), p.steps.map((s) => s.name).join(" -> ")]))}\n`);
    }
  });

  targetFlags(withParams(common(program.command("plan <job>").description("print the RunPlan (JSON) a run would execute; nothing runs"), false))).action(
    async (job: string, opts: CommonOptions & TargetFlags & { param: string[]; runId?: string; series: string }) => {
      const { parseParamArgs } = await import("./config/params.js");
      const { prepareRun } = await import("./run.js");
      const { planText } = await import("./plan/build.js");
      const root = resolveRoot(opts.root);
      const backend = await backendFrom({ ...opts, root });
      const { plan, warnings } = await prepareRun({
        jobsDir: jobsDirs(opts), job, params: parseParamArgs(opts.param), root, storage: await storageFor(),
        engineConf: backend.sparkConf(), ...(opts.runId ? { runId: opts.runId } : {}), series: opts.series,
      });
      for (const w of warnings) log(`warning: ${w}`);
      process.stdout.write(planText(plan));
    },
  );

  targetFlags(withParams(common(program.command("stage <job>").description("stage the runner and the plan, and print (JSON, with or without --json) what an orchestrator submits: the EMR step, the EMR Serverless job driver; nothing runs")))).action(
    async (job: string, opts: CommonOptions & TargetFlags & { param: string[]; runId?: string; series: string }) => {
      const { parseParamArgs } = await import("./config/params.js");
      const { stageOnly } = await import("./run.js");
      const { emrStep } = await import("./backends/emr.js");
      const { jobRunRequest } = await import("./backends/emr-serverless.js");
      const root = resolveRoot(opts.root);
      const backend = await backendFrom({ ...opts, root });
      const { plan, staged } = await stageOnly({
        jobsDir: jobsDirs(opts), job, params: parseParamArgs(opts.param), root, storage: await storageFor(),
        engineConf: backend.sparkConf(), ...(opts.runId ? { runId: opts.runId } : {}), series: opts.series,
      });
      const serverless = jobRunRequest(plan, staged, { applicationId: opts.applicationId ?? "", executionRoleArn: opts.executionRoleArn ?? "", ...(opts.logUri ? { logUri: opts.logUri } : {}) });
      printJson({
        runId: plan.runId,
        runUri: plan.runUri,
        planUri: staged.planUri,
        planSha256: staged.planSha256,
        uploaded: staged.uploaded,
        emrStep: emrStep(plan, staged),
        jobDriver: serverless.jobDriver,
        configurationOverrides: serverless.configurationOverrides ?? {},
      });
    },
  );

  targetFlags(withParams(common(program.command("run <job>").description("run a job, wait, validate its outputs and check its gates"))))
    .option("--timeout <seconds>", "give up (and cancel) after this long", "3600")
    .option("--report [file]", "also write its HTML report (see report): to <root>/reports/<run>.html, or to the file given")
    .action(async (job: string, opts: CommonOptions & TargetFlags & { param: string[]; runId?: string; series: string; timeout: string; report?: string | boolean }) => {
      const result = await runJob(job, opts);
      const report = opts.report ? (await writeReport(resolveRoot(opts.root), result.runId, typeof opts.report === "string" ? opts.report : undefined)).report : undefined;
      if (opts.json) printJson({ ...runJson(result), ...(report ? { report } : {}) });
      else {
        await printRunSummary(result);
        if (report) process.stdout.write(`\nreport: ${report}\n`);
      }
      const failed = result.checks.filter((c) => !c.passed);
      if (failed.length) {
        throw new SparkjobsError("gate", `${failed.length} quality gate${failed.length === 1 ? "" : "s"} failed`, {
          problems: failed.map((c) => ({ path: c.name, message: c.detail })),
          fix: "look at the data and the job; the gates are under checks: in the job definition",
        });
      }
    });

  targetFlags(withParams(common(program.command("pipeline <name>").description("run a pipeline (jobs/pipelines/<name>.yaml): its jobs in order, each reading the earlier ones' outputs; a rerun with the same --run-id reuses complete steps"))))
    .option("--timeout <seconds>", "give up on a step (and cancel it) after this long", "3600")
    .option("--no-session", "run each step in a Spark application of its own (by default the steps share one on local, standalone, yarn and emr with --cluster-id)")
    .option("--report [file]", "also write the HTML report of its steps (see report): to <root>/reports/<run>.html, or to the file given")
    .action(async (name: string, opts: CommonOptions & TargetFlags & { param: string[]; runId?: string; series: string; timeout: string; session?: boolean; report?: string | boolean }) => {
      const { loadPipeline, runPipeline } = await import("./pipeline.js");
      const { parseParamArgs } = await import("./config/params.js");
      const pipeline = loadPipeline(jobsDirs(opts), name);
      // One Spark application for the steps: a local or standalone driver, a YARN application, one
      // step on a running EMR cluster (a transient cluster and EMR Serverless run a step per job).
      let session: import("./backends/session.js").SessionBackend | undefined;
      const sessionTarget = ["local", "standalone", "yarn"].includes(opts.target) || (opts.target === "emr" && !opts.transientCluster);
      if (opts.session !== false && sessionTarget) {
        const { SessionBackend } = await import("./backends/session.js");
        const root = resolveRoot(opts.root);
        session = new SessionBackend({
          backend: await backendFrom({ ...opts, root }),
          apart: () => backendFrom({ ...opts, root }),
          storage: await storageFor(),
          root,
          name: name.slice(0, 40),
          log,
        });
      }
      let result;
      try {
        result = await runPipeline(pipeline, { ...(opts.runId ? { runId: opts.runId } : {}), params: parseParamArgs(opts.param), log }, (step) =>
          runJob(step.job, { ...opts, param: Object.entries(step.params).map(([k, v]) => `${k}=${v}`), runId: step.runId }, session),
        );
      } finally {
        await session?.close();
      }
      const report = opts.report ? (await writeReport(resolveRoot(opts.root), result.runId, typeof opts.report === "string" ? opts.report : undefined)).report : undefined;
      if (opts.json) return printJson({ ...result, ...(report ? { report } : {}) });
      const { textTable } = await import("./report/table.js");
      process.stdout.write(`pipeline ${result.runId} (${result.pipeline}) succeeded in ${(result.durationMs / 1000).toFixed(1)} s\n\n`);
      process.stdout.write(`${textTable(["step", "job", "run", "reused", "seconds", "outputs"], result.steps.map((s) => [s.name, s.job, s.runId, s.reused ? "yes" : "no", (s.durationMs / 1000).toFixed(1), Object.entries(s.outputs).map(([o, v]) => `${o} ${v.rows}`).join(", ")]), ["left", "left", "left", "left", "right", "left"])}\n`);
      if (report) process.stdout.write(`\nreport: ${report}\n`);
    });

  const sources = program.command("sources").description("source definitions: your own tables mapped onto the canonical ones");
  common(sources.command("check <file>").description("try a source definition on the first rows of each table (local Spark, nothing kept): every missing column, expression that does not compile and cast that fails, with the rows each rule rejects"), true, false)
    .option("--sample <rows>", "rows read from each table", "1000")
    .addOption(new Option("-c, --conf <key=value>", "Spark setting for the local Spark that reads the sample (repeatable): your catalog's, for catalog tables").argParser(collect).default([] as string[], "none"))
    .action(async (file: string, opts: Omit<CommonOptions, "root"> & { sample: string; conf: string[] }) => {
      const sample = Number(opts.sample);
      if (!Number.isSafeInteger(sample) || sample < 1) throw new SparkjobsError("usage", `--sample ${opts.sample} is not a positive whole number of rows`, { fix: "pass --sample 1000, for example" });
      const { checkSourcesOnSample } = await import("./sources/sample.js");
      const report = await checkSourcesOnSample({ file, sample, jobsDir: jobsDirs(opts), storage: await storageFor(), conf: (await import("./config/params.js")).parseConfArgs(opts.conf), log });
      if (opts.json) return printJson(report);
      const { textTable } = await import("./report/table.js");
      const out = [`source definition ${report.file} (${report.source}) fits its data on a sample of up to ${sample} rows per table`, ""];
      out.push(textTable(["table", "sampled", "accepted", "rejected", "rules broken"], Object.entries(report.tables).map(([name, t]) => [name, t.read - t.filtered, t.accepted, t.rejected, t.rules.map((r) => `${r.rule}${r.column ? ` (${r.column})` : ""} ${r.rows}`).join(", ") || "none"]), ["left", "right", "right", "right", "left"]));
      if (report.absent.length) out.push("", `declared absent: ${report.absent.join(", ")}`);
      if (report.examples.length) {
        out.push("", "rejected rows (first of each rule):");
        out.push(textTable(["table", "rule", "column", "value", "row"], report.examples.map((e) => [e.table, e.rule, e.column ?? "", e.value ?? "", (e.line ?? e.source_row).slice(0, 100)])));
      }
      process.stdout.write(`${out.join("\n")}\n`);
    });

  common(program.command("validate <run>").description("check that a run is complete and its outputs match their schemas and gates"))
    .action(async (run: string, opts: CommonOptions) => {
      const { readManifest } = await import("./results/manifest.js");
      const { validateOutputs } = await import("./results/validate.js");
      const { evaluateChecks } = await import("./results/checks.js");
      const { runUri } = await import("./plan/build.js");
      const { throwIfInvalid } = await import("./run.js");
      const storage = await storageFor();
      const root = resolveRoot(opts.root);
      const uri = run.includes("/") ? resolveRoot(run, "validate") : runUri(root, checkRunId(run, "validate"));
      const state = await readManifest(storage, uri);
      if (!state.complete) {
        throw new SparkjobsError("incomplete", `run ${run} is incomplete: ${state.reason}`, {
          fix: `rerun it with the same --run-id to complete it; nothing of it may be read as a result`,
        });
      }
      const reports = await validateOutputs(storage, state.manifest);
      throwIfInvalid(state.manifest.runId, reports);
      const { readPlanChecks } = await import("./results/plan-checks.js");
      const gates = await readPlanChecks(storage, root, state.manifest);
      if (gates === undefined) log(`the staged plan ${state.manifest.planSha256} of run ${run} is not under ${root}/stage/plans: its quality gates cannot be checked`);
      const checks = evaluateChecks(gates ?? [], state.manifest);
      const summary = {
        runId: state.manifest.runId,
        job: state.manifest.job.name,
        status: "complete",
        outputs: Object.fromEntries(reports.map((r) => [r.name, { uri: r.uri, rows: r.rows }])),
        checks,
      };
      if (opts.json) printJson(summary);
      else {
        const { textTable } = await import("./report/table.js");
        process.stdout.write(`run ${summary.runId} (${summary.job}) is complete and valid\n\n${textTable(["output", "rows", "uri"], reports.map((r) => [r.name, r.rows, r.uri]), ["left", "right", "left"])}\n`);
        const { outcomeLabel } = await import("./results/checks.js");
        if (checks.length) process.stdout.write(`\n${textTable(["check", "result", "detail"], checks.map((c) => [c.name, outcomeLabel(c), c.detail]))}\n`);
      }
      const failed = checks.filter((c) => !c.passed);
      if (failed.length) throw new SparkjobsError("gate", `${failed.length} quality gate(s) failed`, { problems: failed.map((c) => ({ path: c.name, message: c.detail })) });
    });

  common(program.command("history <job>").description("the complete runs of a job in a series, oldest first: rows per output and the gates that warned or failed (drift against the run before)"))
    .addOption(new Option("--series <name>", "the series (see run --series)").env("SPARKJOBS_SERIES").default("default").argParser((name: string) => checkSeries(name)))
    .option("--last <n>", "show at most the last n runs", "20")
    .action(async (job: string, opts: CommonOptions & { series: string; last: string }) => {
      const last = Number(opts.last);
      if (!Number.isSafeInteger(last) || last < 1) throw new SparkjobsError("usage", `--last ${opts.last} is not a positive whole number`, { fix: "pass --last 20, for example" });
      const { loadJob } = await import("./config/job.js");
      loadJob(jobsDirs(opts), job);
      const { readHistory, historyRows } = await import("./results/history.js");
      const history = await readHistory(await storageFor(), resolveRoot(opts.root), job, opts.series, last);
      for (const u of history.unreadable) log(`warning: ${u} is not a history entry; left out`);
      if (opts.json) return printJson(history);
      if (!history.entries.length) {
        const others = history.otherSeries.length ? ` (series with runs: ${history.otherSeries.join(", ")})` : "";
        process.stdout.write(`no complete run of ${job} in series ${opts.series} under ${history.uri}${others}\n`);
        return;
      }
      const { textTable } = await import("./report/table.js");
      process.stdout.write(`${job}, series ${opts.series}: ${history.entries.length} run(s), oldest first\n\n`);
      process.stdout.write(`${textTable(["run", "finished", "rows", "gates"], historyRows(history.entries))}\n`);
    });

  common(program.command("report <run>").description("an HTML report of a run, or of a pipeline run's steps: charts and tables from the manifests and outputs, one self-contained file"))
    .option("-o, --output <file>", "write it to this file (default: <root>/reports/<run>.html)")
    .action(async (run: string, opts: CommonOptions & { output?: string }) => {
      checkRunId(run, "report");
      const written = await writeReport(resolveRoot(opts.root), run, opts.output);
      if (opts.json) return printJson(written);
      process.stdout.write(`report of ${written.runs.length === 1 ? `run ${written.runs[0]}` : `${written.runs.length} runs`}: ${written.report} (${(written.bytes / 1024).toFixed(0)} KiB)\n`);
    });

  common(program.command("demo").description("generate customers and segment them on a local Spark (what npm start runs)"))
    .option("--customers <n>", "customers to generate", "10000")
    .option("--seed <n>", "generator seed", "42")
    .action(async (opts: CommonOptions & { customers: string; seed: string }) => {
      const genId = `demo-generate-c${opts.customers}-s${opts.seed}`.replace(/[^A-Za-z0-9._-]/g, "_");
      // One history series per data set: segments of other generated data are not drift.
      const base = { ...opts, timeout: "3600", target: "local", conf: [] as string[], series: genId.replace(/^demo-generate-/, "demo-") };
      log(`step 1/2: generate ${opts.customers} customers (run ${genId}; reused when already complete)`);
      await runJob("generate", { ...base, param: [`customers=${opts.customers}`, `seed=${opts.seed}`], runId: genId });
      log("step 2/2: clean, build features and segment");
      const result = await runJob("customer-segmentation", { ...base, param: [`source=${genId}`] });
      if (opts.json) printJson(runJson(result));
      else await printRunSummary(result);
    });

  return program;
}

function runJson(result: import("./run.js").RunResult) {
  const { manifest: _manifest, ...rest } = result;
  return { ...rest, status: result.checks.every((c) => c.passed) ? "succeeded" : "gate_failed" };
}

let cancelCurrent: (() => Promise<void>) | undefined;
let jobsSaid = false;

async function runJob(job: string, opts: CommonOptions & TargetFlags & { param: string[]; runId?: string; series: string; timeout: string }, shared?: Backend) {
  const { parseParamArgs } = await import("./config/params.js");
  const { executeRun } = await import("./run.js");
  const timeout = Number(opts.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new SparkjobsError("usage", `--timeout ${opts.timeout} is not a positive number of seconds`);
  const root = resolveRoot(opts.root);
  let pollMaxMs: number | undefined;
  if (opts.pollMax !== undefined) {
    pollMaxMs = Number(opts.pollMax) * 1000;
    if (!Number.isFinite(pollMaxMs) || pollMaxMs <= 0) throw new SparkjobsError("usage", `--poll-max ${opts.pollMax} is not a positive number of seconds`, { fix: "give seconds, for example --poll-max 5" });
  }
  const backend = shared ?? (await backendFrom({ ...opts, root }));
  const dirs = jobsDirs(opts);
  if (!jobsSaid) {
    jobsSaid = true;
    await sayReplaced(dirs);
  }
  return executeRun({
    jobsDir: dirs,
    job,
    params: parseParamArgs(opts.param),
    ...(opts.runId ? { runId: opts.runId } : {}),
    root,
    series: opts.series,
    storage: await storageFor(),
    backend,
    timeoutMs: timeout * 1000,
    ...(pollMaxMs !== undefined ? { pollMaxMs } : {}),
    log,
    onSubmitted: (submission) => {
      cancelCurrent = () => backend.cancel(submission);
    },
  });
}

async function main(argv: string[]): Promise<number> {
  // The AWS SDK warns on every start that its releases after January 2027 need Node 22; the pinned ones do not.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const json = argv.includes("--json");
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: cancelling the run`);
    // The run lock goes after the cancel, so a rerun does not start while this run still runs.
    void (cancelCurrent?.() ?? Promise.resolve())
      .catch(() => undefined)
      .then(async () => (await import("./stage/lock.js")).releaseHeldLocks())
      .finally(() => process.exit(EXIT_CODES.interrupted));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    await buildProgram().parseAsync(argv, { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return 0;
      return EXIT_CODES.usage;
    }
    const { UnsupportedSchemeError } = await import("./stage/storage.js");
    if (e instanceof UnsupportedSchemeError) {
      e = new SparkjobsError("usage", e.message, { fix: "give a local path, file:///absolute/path, s3://bucket/key or hdfs://namenode:port/path; other stores (gs://, abfs://) are not read by sparkjobs itself" });
    }
    const error = e instanceof SparkjobsError ? e : new SparkjobsError("internal", `unexpected error: ${(e as Error)?.stack ?? String(e)}`, { fix: "this is a bug in sparkjobs; please report it with the command you ran" });
    progress.write(formatError(error));
    if (json && !jsonPrinted) printJson({ status: "error", error: error.toJSON() });
    return error.exitCode;
  }
}

process.exitCode = await main(process.argv.slice(2));
