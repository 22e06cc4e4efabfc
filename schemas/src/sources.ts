/**
 * Source definitions (sources/<name>.yaml): how a team's own tables map onto the canonical tables
 * the jobs read (transactions, products, events, customers, campaigns). The ingest job reads each
 * declared source, maps and casts its columns, checks every row and writes the canonical tables.
 */
import { z } from "zod";
import { identifier } from "./definition.js";

/** The tables a source definition maps, in the order ingest reads them. */
export const CANONICAL_TABLES = ["transactions", "products", "events", "customers", "campaigns"] as const;
export type CanonicalTable = (typeof CANONICAL_TABLES)[number];

/** Formats Spark reads without extra jars; delta and iceberg need their jars on the engine (see README). */
export const SOURCE_FORMATS = ["parquet", "csv", "json", "orc", "delta", "iceberg"] as const;

export const csvOptions = z.strictObject({
  /** The first line names the columns; without it they are _c0, _c1, ... */
  header: z.boolean().default(true),
  delimiter: z.string().min(1).max(4).default(","),
  quote: z.string().length(1).default('"'),
  escape: z.string().length(1).default("\\"),
  encoding: z.string().min(1).default("UTF-8"),
  /** Quoted values may span lines (slower: each file is read by one task). */
  multiLine: z.boolean().default(false),
  /** Lines starting with this character are skipped. */
  comment: z.string().length(1).optional(),
});
export type CsvOptions = z.infer<typeof csvOptions>;

/** A Spark SQL expression over the source's columns, e.g. CAST(`Customer ID` AS STRING). */
const expression = z.string().trim().min(1, "write a Spark SQL expression over the source's columns");

/** A catalog table, db.table (or catalog.db.table), read through Spark's catalog (Hive metastore, AWS Glue). */
export const CATALOG_TABLE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}$/;

export const presentSource = z.strictObject({
  description: z.string().optional(),
  /** Files, folders or globs (local, relative to this file, or s3://...); one or a list. */
  path: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  /** A catalog table instead of files, e.g. sales.order_lines. */
  table: z.string().regex(CATALOG_TABLE, "a catalog table as db.table (letters, digits and _)").optional(),
  format: z.enum(SOURCE_FORMATS).default("parquet"),
  csv: csvOptions.optional(),
  /** Text values read as null in every string column (e.g. "nan", "NULL", "n/a"). */
  nullValues: z.array(z.string()).default([]),
  /**
   * Each canonical column as a Spark SQL expression over the source's columns. A column left out is
   * taken from a source column of the same name, else null (nullable columns) or generated (keys
   * the table numbers itself: transactions.line_no, events.event_id, campaigns.exposure_id).
   */
  columns: z.record(identifier, expression).default({}),
  /** Only rows where this expression is true are read (others are counted as filtered). */
  filter: expression.optional(),
  /** Time zone of timestamps written without one (naive timestamps, text); overrides the file's. */
  timezone: z.string().min(1).optional(),
  /**
   * customers only: further columns the models learn from (response, uplift, clv), each a Spark SQL
   * expression; numeric ones are read as numbers, categorical ones one-hot encoded (a value the
   * training rows did not have gets a slot of its own).
   */
  features: z.strictObject({
    numeric: z.record(identifier, expression).default({}),
    categorical: z.record(identifier, expression).default({}),
  }).optional(),
});
export type PresentSource = z.infer<typeof presentSource>;

export const absentSource = z.strictObject({
  /** The source has no such table: jobs that need it say so before Spark starts; others do without it. */
  absent: z.literal(true),
  description: z.string().optional(),
});

export const sourceTable = z.union([absentSource, presentSource]);
export type SourceTable = z.infer<typeof sourceTable>;

export const sourceDefinition = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, "use lower-case letters, digits and -"),
  description: z.string().optional(),
  /** Time zone of timestamps written without one, for every table (a table may override it). */
  timezone: z.string().min(1).default("UTC"),
  /** ISO 4217 code of the amounts (unit prices, revenue); recorded in the manifest. */
  currency: z.string().regex(/^[A-Z]{3}$/, "an ISO 4217 code such as EUR, GBP, USD").optional(),
  /** Every canonical table, either mapped or declared absent. */
  tables: z.strictObject(Object.fromEntries(CANONICAL_TABLES.map((t) => [t, sourceTable])) as Record<CanonicalTable, typeof sourceTable>),
});
export type SourceDefinition = z.infer<typeof sourceDefinition>;

/** A table as the plan carries it: paths resolved to absolute URIs, every option filled in. */
export const planSourceTable = z.strictObject({
  /** Files, folders or globs as Spark reads them; empty when `table` is set. */
  paths: z.array(z.string().min(1)),
  table: z.string().optional(),
  format: z.enum(SOURCE_FORMATS),
  csv: csvOptions.optional(),
  nullValues: z.array(z.string()),
  columns: z.record(identifier, z.string()),
  filter: z.string().optional(),
  timezone: z.string().min(1),
  features: z.strictObject({ numeric: z.record(identifier, z.string()), categorical: z.record(identifier, z.string()) }).optional(),
});
export type PlanSourceTable = z.infer<typeof planSourceTable>;

export const planSources = z.strictObject({
  name: z.string(),
  /** The source definition file, for messages. */
  file: z.string(),
  currency: z.string().optional(),
  /** The tables present, by canonical name; the others are absent. */
  tables: z.partialRecord(z.enum(CANONICAL_TABLES), planSourceTable),
  absent: z.array(z.enum(CANONICAL_TABLES)),
});
export type PlanSources = z.infer<typeof planSources>;
