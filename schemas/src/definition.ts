/**
 * Job definitions (jobs/<job>.yaml) and MLlib stage configurations (jobs/mllib-configs/*.yaml).
 * Strict objects everywhere: an unknown key is an error that names the key, never ignored.
 */
import { z } from "zod";
import { TABLE_NAMES } from "./tables.js";

/** Names used as SQL view names and Spark parameter names. */
export const identifier = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,62}$/, "use lower-case letters, digits and _ (starting with a letter), at most 63 characters");

/** Run ids end up in paths, EMR step names and EMR Serverless client tokens (1-64 of [A-Za-z0-9._-]). */
export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const runId = z.string().regex(RUN_ID_PATTERN, "use 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit");

const tableName = z.enum(TABLE_NAMES as [string, ...string[]]);

const paramBase = { description: z.string().optional() };
export const paramSpec = z.discriminatedUnion("type", [
  z.strictObject({ ...paramBase, type: z.literal("string"), default: z.string().optional(), pattern: z.string().optional(), maxLength: z.number().int().positive().default(256) }),
  z.strictObject({ ...paramBase, type: z.literal("int"), default: z.number().int().optional(), min: z.number().int().optional(), max: z.number().int().optional() }),
  z.strictObject({ ...paramBase, type: z.literal("double"), default: z.number().optional(), min: z.number().optional(), max: z.number().optional() }),
  z.strictObject({ ...paramBase, type: z.literal("boolean"), default: z.boolean().optional() }),
  z.strictObject({
    ...paramBase,
    type: z.literal("date"),
    default: z.iso.date().optional(),
    /**
     * Without a value given, a date the data of a source run implies: the metric at the first of the
     * `date` paths that the run's manifest has (generate and ingest differ), less `minusDays`. A date
     * given before the data's first day is an error, one after that default a warning.
     */
    fromRun: z.strictObject({
      param: identifier,
      date: z.array(z.string().min(1)).min(1),
      firstDay: z.array(z.string().min(1)).default([]),
      /** An int parameter whose days are taken off the as-of date for the default (a horizon that must fit in the data). */
      minusDays: identifier.optional(),
    }).optional(),
  }),
  z.strictObject({ ...paramBase, type: z.literal("enum"), values: z.array(z.string()).min(1), default: z.string().optional() }),
  /** One or more of `values`, given separated by commas ("recency_days,frequency,monetary"); each at most once. */
  z.strictObject({ ...paramBase, type: z.literal("list"), values: z.array(z.string().min(1)).min(1), default: z.string().optional() }),
  z.strictObject({
    ...paramBase,
    type: z.literal("runId"),
    default: runId.optional(),
    /** The run may be left out: the inputs it gives are then optional ones, read as absent. */
    optional: z.boolean().default(false),
  }),
  z.strictObject({ ...paramBase, type: z.literal("path"), default: z.string().optional() }),
]);
export type ParamSpec = z.infer<typeof paramSpec>;

export const inputSpec = z.union([
  z.strictObject({
    /** A Parquet file or folder; `{param}` placeholders are replaced by path or runId parameters. */
    uri: z.string().min(1),
    schema: tableName,
    description: z.string().optional(),
  }),
  z.strictObject({
    /** An output of an earlier run, found through that run's manifest; `job` may list every job whose runs fit. */
    fromRun: z.strictObject({ param: identifier, job: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]), output: identifier }),
    schema: tableName,
    optional: z.boolean().default(false),
    /** An optional input that is absent is read as an empty table of its schema, so the same SQL runs (segmentation without events). */
    emptyWhenAbsent: z.boolean().default(false),
    description: z.string().optional(),
  }),
]);
export type InputSpec = z.infer<typeof inputSpec>;

const stageBase = {
  name: identifier,
  description: z.string().optional(),
};
export const sqlStage = z.strictObject({
  ...stageBase,
  kind: z.literal("sql"),
  /** Path under jobs/spark-sql/. The result is registered as a temporary view named after the stage. */
  file: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_/.-]*\.sql$/, "a relative path ending in .sql"),
  /** Keep the result in memory because later stages read it more than once. */
  cache: z.boolean().default(false),
  /** Collect the (small) result into the manifest's metrics under this key. */
  metrics: identifier.optional(),
  /** SQL parameters bound to another job parameter, e.g. `{ snapshot_date: cutoff }`: one SQL file serves jobs whose dates differ in meaning. */
  bind: z.record(identifier, identifier).default({}),
});
export const mllibStage = z.strictObject({
  ...stageBase,
  kind: z.literal("mllib"),
  /** Path under jobs/mllib-configs/. */
  config: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_/.-]*\.ya?ml$/, "a relative path ending in .yaml"),
  /** The view holding the stage's input rows. */
  input: identifier,
  /** Optional ground truth to score the result against (generated data only). */
  truth: z.strictObject({ view: identifier, column: identifier }).optional(),
});
/** A number, or the job parameter that gives it. */
const numberOrParam = (n: z.ZodNumber) => z.union([n, z.strictObject({ param: identifier })]);

/**
 * Reads a source definition's tables (files in any format, or catalog tables), maps and casts them
 * onto the canonical tables, checks every row and quarantines the rows that break a rule. Its views
 * are the canonical tables the source has, and `quarantine`.
 */
export const ingestStage = z.strictObject({
  ...stageBase,
  kind: z.literal("ingest"),
  /** The path parameter naming the source definition (YAML). */
  sources: z.strictObject({ param: identifier }),
  /** The largest share of a table's rows that may be rejected; above it the run stops (exit 14). */
  maxRejectedShare: numberOrParam(z.number().min(0).max(1)).default(0.05),
  /** The int parameter that limits every table to its first N rows (0 = all): a quick check of a sample. */
  sample: z.strictObject({ param: identifier }).optional(),
});
export const INGEST_QUARANTINE_VIEW = "quarantine";

export const stageSpec = z.discriminatedUnion("kind", [sqlStage, mllibStage, ingestStage]);
export type StageSpec = z.infer<typeof stageSpec>;

export const outputSpec = z.strictObject({
  /** The view (stage or input name) whose rows are written. */
  from: identifier,
  schema: tableName,
  /** Number of files to write (coalesce); omit to let Spark decide. */
  files: z.number().int().positive().optional(),
  /** Written only when its view exists (an ingest output for a table the source declares absent). */
  optional: z.boolean().default(false),
  description: z.string().optional(),
});

/**
 * Quality gates. `bound` is what a threshold may be: numbers in a plan; numbers or parameters in
 * a definition. A gate of severity error (the default) fails the run; warn only reports.
 *
 * metric and rows gates read the manifest. unique, references, accepted and reconcile are
 * evaluated by the runner in Spark over the written outputs, with a sample of the failing rows
 * written beside the manifest. drift compares this run with the previous complete run of the
 * same job and series (the history under the root).
 */
function checkSchema<B extends z.ZodType>(bound: B) {
  const common = {
    name: identifier,
    severity: z.enum(["warn", "error"]).optional(),
    description: z.string().optional(),
  };
  const sqlValue = z.strictObject({
    /** One Spark SQL query over the job's views (outputs as written) that gives one number. */
    sql: z.string().min(1),
  });
  return z.union([
    z.strictObject({
      ...common,
      /** Dotted path into the manifest's metrics, e.g. segmentation.silhouette. */
      metric: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_-]+)*$/, "a dotted path into the metrics, e.g. segmentation.silhouette"),
      min: bound.optional(),
      max: bound.optional(),
    }),
    z.strictObject({
      ...common,
      output: identifier,
      minRows: z.number().int().min(0).optional(),
      maxRows: z.number().int().min(0).optional(),
    }),
    z.strictObject({
      ...common,
      /** No two rows of the output share these columns. Every output whose table declares a key gets this gate. */
      unique: z.strictObject({ output: identifier, columns: z.array(identifier).min(1) }),
    }),
    z.strictObject({
      ...common,
      /** Every (non-null) value of the output's columns is in `to` (an output or input of the job), in `toColumns` (default: the same names). */
      references: z.strictObject({ output: identifier, columns: z.array(identifier).min(1), to: identifier, toColumns: z.array(identifier).min(1).optional() }),
    }),
    z.strictObject({
      ...common,
      /** Every non-null value of the column is one of these. */
      accepted: z.strictObject({ output: identifier, column: identifier, values: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1) }),
    }),
    z.strictObject({
      ...common,
      /** Two totals agree: |left - right| <= tolerance x max(|left|, |right|), or <= absolute. */
      reconcile: z.strictObject({
        left: sqlValue,
        right: sqlValue,
        tolerance: z.number().min(0).default(1e-9),
        absolute: z.number().min(0).optional(),
      }),
    }),
    z.strictObject({
      ...common,
      /**
       * Against the previous complete run of the job in the same series: rows (relative change of an
       * output's row count), shares (the largest move of a category's share, in share points / 100)
       * or psi (population stability index of a numeric column over equal-width bins).
       */
      drift: z.union([
        z.strictObject({ rows: identifier }),
        z.strictObject({ shares: z.strictObject({ output: identifier, column: identifier }) }),
        z.strictObject({
          psi: z.strictObject({
            output: identifier,
            column: identifier,
            bins: z.number().int().min(2).max(100).default(10),
            /** The range the bins cover; values outside go to the first or last bin. */
            range: z.tuple([z.number(), z.number()]).default([0, 1]),
          }),
        }),
      ]),
      /** A change at least this large reports a warning. */
      warn: bound.optional(),
      /** A change at least this large fails the gate. */
      error: bound.optional(),
    }),
  ]);
}

/** A bound given by an int or double parameter of the job, e.g. `max: { param: budget }`. */
export const paramBound = z.strictObject({ param: identifier });
export const definitionCheckSpec = checkSchema(z.union([z.number(), paramBound]));
export type DefinitionCheckSpec = z.infer<typeof definitionCheckSpec>;
/** A gate as the plan carries it: every bound resolved to a number. */
export const checkSpec = checkSchema(z.number());
export type CheckSpec = z.infer<typeof checkSpec>;

/** A Spark ML pipeline model saved by an earlier run, found through that run's manifest. */
export const modelSpec = z.strictObject({
  fromRun: z.strictObject({
    param: identifier,
    job: z.string().min(1),
    /** Name under the run's manifest `models`; `{param}` placeholders are replaced by parameters. */
    model: z.string().min(1),
  }),
  description: z.string().optional(),
});

export const jobDefinition = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, "use lower-case letters, digits and -"),
  /** Raise when the outputs change meaning; it is recorded in every plan and manifest. */
  version: z.number().int().positive(),
  description: z.string(),
  params: z.record(identifier, paramSpec).default({}),
  inputs: z.record(identifier, inputSpec).default({}),
  models: z.record(identifier, modelSpec).default({}),
  stages: z.array(stageSpec).min(1),
  outputs: z.record(identifier, outputSpec),
  checks: z.array(definitionCheckSpec).default([]),
  /** Spark configuration for this job, applied on every engine. */
  sparkConf: z.record(z.string(), z.string()).default({}),
});
export type JobDefinition = z.infer<typeof jobDefinition>;

// ---------------------------------------------------------------- MLlib configurations

/** Spark MLlib KMeans parameters, spelled as in pyspark.ml.clustering.KMeans. */
export const kmeansParams = z.strictObject({
  maxIter: z.number().int().positive().default(50),
  tol: z.number().positive().default(1e-6),
  initMode: z.enum(["k-means||", "random"]).default("k-means||"),
  initSteps: z.number().int().positive().default(2),
  seed: z.number().int().default(42),
  distanceMeasure: z.enum(["euclidean", "cosine"]).default("euclidean"),
});

export const kmeansConfig = z.strictObject({
  algorithm: z.literal("kmeans"),
  description: z.string().optional(),
  /** Key column carried through to the assignments. */
  idColumn: identifier,
  /** The columns clustered on; or a job parameter of type list that names them (its values are the choices). */
  features: z.union([z.array(identifier).min(1), z.strictObject({ param: identifier })]),
  /** Columns transformed with log(1 + x) before scaling (skewed money and counts). */
  log1p: z.array(identifier).default([]),
  standardize: z.boolean().default(true),
  k: z.strictObject({
    /** A job parameter that fixes k when it is above 0. */
    param: identifier.optional(),
    /** Candidates tried when k is not fixed; the best silhouette wins. */
    min: z.number().int().min(2).default(2),
    max: z.number().int().min(2).default(8),
  }),
  /** Fits per k with seeds seed, seed+1, ...; the lowest within-cluster cost is kept. */
  restarts: z.number().int().min(1).max(50).default(1),
  params: kmeansParams.default(kmeansParams.parse({})),
  /** Columns copied from the input into the assignments output. */
  passthrough: z.array(identifier).default([]),
  /**
   * The customer columns behind the segment profiles and the business names: clusters are named
   * from their centroids on these (log-transformed and standardised like the features, whether
   * they were clustered on or not).
   */
  naming: z.strictObject({
    recency: identifier,
    frequency: identifier,
    monetary: identifier,
    tenure: identifier,
  }),
  /**
   * business: high-value, loyal, potential, churning (suffixed -2, -3 beyond four); numbered:
   * segment-1, segment-2, ... by size. Or a job parameter (enum of the two) that says which.
   */
  names: z.union([z.enum(["business", "numbered"]), z.strictObject({ param: identifier })]).default("business"),
  /** View names for the stage's results. */
  outputs: z.strictObject({ assignments: identifier, profiles: identifier }),
});
export type KMeansConfig = z.infer<typeof kmeansConfig>;

/** pyspark.ml.classification.GBTClassifier parameters. */
export const gbtParams = z.strictObject({
  maxIter: z.number().int().positive().default(50),
  maxDepth: z.number().int().min(1).max(30).default(4),
  stepSize: z.number().positive().max(1).default(0.1),
  subsamplingRate: z.number().positive().max(1).default(1),
  minInstancesPerNode: z.number().int().positive().default(1),
  maxBins: z.number().int().min(2).default(32),
  featureSubsetStrategy: z.string().default("all"),
  seed: z.number().int().default(42),
});

/** pyspark.ml.classification.LogisticRegression parameters. */
export const logisticParams = z.strictObject({
  maxIter: z.number().int().positive().default(100),
  regParam: z.number().min(0).default(0),
  elasticNetParam: z.number().min(0).max(1).default(0),
  standardization: z.boolean().default(true),
  tol: z.number().positive().default(1e-6),
});

export const classifierModel = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("gbt"), params: gbtParams.default(gbtParams.parse({})) }),
  z.strictObject({ type: z.literal("logistic"), params: logisticParams.default(logisticParams.parse({})) }),
]);

/**
 * xgboost.spark.SparkXGBClassifier parameters, spelled as xgboost spells them. Training is
 * distributed over num_workers Spark tasks that run at once (barrier mode); left out, it is the
 * application's default parallelism. The xgboost package reaches the driver and executors in the
 * run's packed Python environment (jobs/runner/requirements-xgboost.txt).
 */
export const xgboostParams = z.strictObject({
  n_estimators: z.number().int().positive().default(100),
  max_depth: z.number().int().min(1).max(30).default(6),
  learning_rate: z.number().positive().max(1).default(0.3),
  subsample: z.number().positive().max(1).default(1),
  colsample_bytree: z.number().positive().max(1).default(1),
  min_child_weight: z.number().min(0).default(1),
  reg_lambda: z.number().min(0).default(1),
  reg_alpha: z.number().min(0).default(0),
  max_bin: z.number().int().min(2).default(256),
  random_state: z.number().int().default(42),
  num_workers: z.number().int().positive().max(1024).optional(),
});

/** The models of a classifier stage: Spark ML's, or XGBoost on Spark. */
export const responseModel = z.discriminatedUnion("type", [
  ...classifierModel.options,
  z.strictObject({ type: z.literal("xgboost"), params: xgboostParams.default(xgboostParams.parse({})) }),
]);

/**
 * The feature columns a source declares for its customers (the extra columns of `input`, joined to
 * the rows by `key`); the plan fills numeric and categorical from the input run's manifest.
 */
const sourceFeatures = z.strictObject({
  input: identifier,
  key: identifier,
  numeric: z.array(identifier).default([]),
  categorical: z.array(identifier).default([]),
});

/** What every supervised stage (classifier, uplift) reads: the rows' label, features and split. */
const supervised = {
  /** Columns copied from the input rows into the predictions (keys and grouping columns). */
  keep: z.array(identifier).min(1),
  /** The label: boolean, or a number that is 0 or 1. Null labels are an error. */
  label: identifier,
  numeric: z.array(identifier).default([]),
  /** String columns, one-hot encoded; null and unseen values get a slot of their own. */
  categorical: z.array(identifier).default([]),
  /** Numeric columns transformed with log(1 + x) before the model sees them. */
  log1p: z.array(identifier).default([]),
  /**
   * Also learn from the feature columns a source declares for its customers (the extra columns of
   * this input, joined to the rows by `key`); the plan lists them under numeric and categorical.
   */
  sourceFeatures: sourceFeatures.optional(),
  /** Rows whose hash of `by` (with the seed) falls below testFraction are held out for evaluation. */
  split: z.strictObject({
    by: identifier,
    testFraction: z.number().gt(0).lt(1).default(0.3),
    seed: z.number().int().default(42),
  }),
};

/** Binary classification: one Spark ML pipeline per model (preparation + estimator), fitted on a seeded split. */
export const classifierConfig = z.strictObject({
  algorithm: z.literal("classifier"),
  description: z.string().optional(),
  ...supervised,
  /** Models by name; each gives the predictions column p_<name> and is saved as <stage>_<name>. */
  models: z.record(identifier, responseModel).refine((m) => Object.keys(m).length > 0, "name at least one model"),
  /** Metrics are reported overall and for each value of these columns. */
  groupBy: z.array(identifier).default([]),
  /** Columns joining a truth view (the stage's truth) to the rows, for the oracle AUC. */
  truthKeys: z.array(identifier).default([]),
  calibrationBins: z.number().int().min(2).max(100).default(10),
  /** View names for the stage's results. */
  outputs: z.strictObject({ predictions: identifier, metrics: identifier, calibration: identifier, importance: identifier }),
});
export type ClassifierConfig = z.infer<typeof classifierConfig>;

/** Scores rows with a saved classifier pipeline (a `models:` entry of the job) without retraining. */
export const scoreConfig = z.strictObject({
  algorithm: z.literal("score"),
  description: z.string().optional(),
  /** The job's `models:` entry to load. */
  model: identifier,
  keep: z.array(identifier).min(1),
  /** Name of the probability column written. */
  probability: identifier.default("p_response"),
  /** The source's customer feature columns the model may have learned from, joined to the rows before scoring. */
  sourceFeatures: sourceFeatures.optional(),
  outputs: z.strictObject({ scores: identifier }),
});
export type ScoreConfig = z.infer<typeof scoreConfig>;

/** Treatment against control: lift with a confidence interval and a two-proportion z-test, one row of counts per test. */
export const abtestConfig = z.strictObject({
  algorithm: z.literal("abtest"),
  description: z.string().optional(),
  /** Columns naming each test (string columns), copied to the result. */
  keys: z.array(identifier).min(1),
  treatment: z.strictObject({ rows: identifier, positives: identifier }),
  control: z.strictObject({ rows: identifier, positives: identifier }),
  confidence: z.number().gt(0).lt(1).default(0.95),
  outputs: z.strictObject({ tests: identifier }),
});
export type AbtestConfig = z.infer<typeof abtestConfig>;

/** Two-model uplift: one classifier on treated rows, one on control rows; uplift = the difference of their predictions. */
export const upliftConfig = z.strictObject({
  algorithm: z.literal("uplift"),
  description: z.string().optional(),
  ...supervised,
  /** Rows whose column equals value are treated (contacted); all others are control. */
  treatment: z.strictObject({ column: identifier, value: z.string() }),
  model: classifierModel,
  /** The share of rows ranked highest whose lift is reported (uplift at the top 30%, ...). */
  topFraction: z.number().gt(0).lt(1).default(0.3),
  /** Columns joining the truth view to the rows; the stage's truth column is the treated probability. */
  truthKeys: z.array(identifier).default([]),
  /** The truth view's column with the control (untreated) probability. */
  truthControl: identifier.optional(),
  outputs: z.strictObject({ scores: identifier }),
});
export type UpliftConfig = z.infer<typeof upliftConfig>;

/** pyspark.ml.recommendation.ALS parameters (implicitPrefs is always true: the strengths are implicit feedback). */
export const alsParams = z.strictObject({
  rank: z.number().int().positive().default(10),
  maxIter: z.number().int().positive().default(10),
  regParam: z.number().min(0).default(0.1),
  alpha: z.number().min(0).default(1),
  seed: z.number().int().default(42),
  nonnegative: z.boolean().default(false),
});

/** Collaborative filtering: ALS on implicit feedback, top-N items per user, ranking metrics on a holdout view. */
export const alsConfig = z.strictObject({
  algorithm: z.literal("als"),
  description: z.string().optional(),
  user: identifier,
  item: identifier,
  /** Non-negative strength of the user's interest in the item. */
  rating: identifier,
  topN: z.number().int().min(1).max(500).default(10),
  params: alsParams.default(alsParams.parse({})),
  /** A view of (user, item) pairs to evaluate against, with the N most popular items as the baseline. */
  holdout: identifier.optional(),
  outputs: z.strictObject({ recommendations: identifier }),
});
export type AlsConfig = z.infer<typeof alsConfig>;

/** At most one option per entity, maximising total value within a budget (a multiple-choice knapsack, by its Lagrangian). */
export const allocateConfig = z.strictObject({
  algorithm: z.literal("allocate"),
  description: z.string().optional(),
  /** The column naming who is chosen at most once (a customer). */
  entity: identifier,
  value: identifier,
  cost: identifier,
  /** The job parameter (int or double) holding the budget. */
  budget: z.strictObject({ param: identifier }),
  outputs: z.strictObject({ chosen: identifier }),
});
export type AllocateConfig = z.infer<typeof allocateConfig>;

/** pyspark.ml.regression.LinearRegression parameters. */
export const linearParams = z.strictObject({
  maxIter: z.number().int().positive().default(100),
  regParam: z.number().min(0).default(0),
  elasticNetParam: z.number().min(0).max(1).default(0),
  standardization: z.boolean().default(true),
});

export const regressorModel = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("gbt"), params: gbtParams.default(gbtParams.parse({})) }),
  z.strictObject({ type: z.literal("linear"), params: linearParams.default(linearParams.parse({})) }),
]);

/** Regression (next-period spend): one Spark ML pipeline per model on a seeded split; RMSE and MAE against a baseline column. */
export const regressorConfig = z.strictObject({
  algorithm: z.literal("regressor"),
  description: z.string().optional(),
  ...supervised,
  /** Models by name; each gives the predictions column p_<name> and is saved as <stage>_<name>. */
  models: z.record(identifier, regressorModel).refine((m) => Object.keys(m).length > 0, "name at least one model"),
  /** A column of the input holding the naive prediction every model must beat. */
  baseline: identifier,
  /** A column of the input with the best possible prediction (generated data), reported as the model "oracle". */
  oracle: identifier.optional(),
  groupBy: z.array(identifier).default([]),
  outputs: z.strictObject({ predictions: identifier, metrics: identifier }),
});
export type RegressorConfig = z.infer<typeof regressorConfig>;

/** Association rules (pyspark.ml.fpm.FPGrowth) over baskets: support, confidence and lift, highest lift first. */
export const fpgrowthConfig = z.strictObject({
  algorithm: z.literal("fpgrowth"),
  description: z.string().optional(),
  /** The column naming a basket (an order). */
  basket: identifier,
  /** The column naming an item (a product); an item counts once per basket. */
  item: identifier,
  minSupport: numberOrParam(z.number().gt(0).max(1)),
  minConfidence: numberOrParam(z.number().min(0).max(1)).default(0.1),
  /** Rules with more items on the left are dropped. */
  maxAntecedent: z.number().int().min(1).default(2),
  /** The rules kept, by lift. */
  maxRules: z.number().int().min(1).default(1000),
  /** A support so low that it finds more frequent itemsets than this is an error naming the fix (0 = no limit). */
  maxItemsets: z.number().int().min(0).default(100000),
  outputs: z.strictObject({ rules: identifier }),
});
export type FpgrowthConfig = z.infer<typeof fpgrowthConfig>;

/** Principal components of standardised features (pyspark.ml.feature.PCA), with each row's projection on the first two. */
export const pcaConfig = z.strictObject({
  algorithm: z.literal("pca"),
  description: z.string().optional(),
  idColumn: identifier,
  features: z.array(identifier).min(2),
  log1p: z.array(identifier).default([]),
  /** Components computed (their explained variance goes to the manifest); the projection keeps the first two. */
  components: z.number().int().min(2).default(2),
  outputs: z.strictObject({ projection: identifier }),
});
export type PcaConfig = z.infer<typeof pcaConfig>;

export const mllibConfig = z.discriminatedUnion("algorithm", [
  kmeansConfig, classifierConfig, regressorConfig, scoreConfig, abtestConfig, upliftConfig, alsConfig, allocateConfig, fpgrowthConfig, pcaConfig,
]);
export type MllibConfig = z.infer<typeof mllibConfig>;
