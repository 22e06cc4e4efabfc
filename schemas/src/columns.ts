/**
 * Column builders: a zod schema for one column, annotated with the Spark SQL type it must have.
 * The annotation travels into the exported JSON Schema (`sparkType`), which is what the PySpark
 * runner and the Parquet validator read; zod gives the TypeScript row types.
 */
import { z } from "zod";

export const SPARK_TYPES = ["string", "int", "bigint", "double", "boolean", "date", "timestamp", "timestamp_ntz"] as const;
export type SparkType = (typeof SPARK_TYPES)[number];

const typed = <T extends z.ZodType>(schema: T, sparkType: SparkType, description?: string): T =>
  schema.meta(description ? { sparkType, description } : { sparkType });

export const col = {
  string: (description?: string) => typed(z.string(), "string", description),
  /** A string column restricted to a fixed set of values. */
  oneOf: <const V extends readonly [string, ...string[]]>(values: V, description?: string) =>
    typed(z.enum(values), "string", description),
  /** A string column matching a regular expression. */
  matching: (pattern: RegExp, description?: string) => typed(z.string().regex(pattern), "string", description),
  int: (description?: string) => typed(z.number().int().min(-2147483648).max(2147483647), "int", description),
  nonNegativeInt: (description?: string) => typed(z.number().int().min(0).max(2147483647), "int", description),
  /** 64-bit integer; read back into JavaScript as a number (exact below 2^53). */
  /** A 0/1 integer (a binary label). */
  oneOf01: (description?: string) => typed(z.number().int().min(0).max(1), "int", description),
  long: (description?: string) => typed(z.number().int(), "bigint", description),
  count: (description?: string) => typed(z.number().int().min(0), "bigint", description),
  double: (description?: string) => typed(z.number(), "double", description),
  nonNegativeDouble: (description?: string) => typed(z.number().min(0), "double", description),
  fraction: (description?: string) => typed(z.number().min(0).max(1), "double", description),
  boolean: (description?: string) => typed(z.boolean(), "boolean", description),
  /** Calendar date, ISO yyyy-mm-dd in JSON. */
  date: (description?: string) => typed(z.iso.date(), "date", description),
  /** Instant in time (UTC), ISO 8601 in JSON. */
  timestamp: (description?: string) => typed(z.iso.datetime({ offset: true }), "timestamp", description),
  /** Wall-clock time without a zone, as written by pandas for naive datetimes. */
  timestampNtz: (description?: string) => typed(z.iso.datetime({ local: true }), "timestamp_ntz", description),
};

export interface TableMeta {
  /** Columns that identify a row; the validator checks they are unique where the table says so. */
  primaryKey?: string[];
  description: string;
}

/** A table: a strict zod object of columns, with its key and description in the metadata. */
export function table<S extends z.ZodRawShape>(name: string, meta: TableMeta, shape: S) {
  return z.strictObject(shape).meta({ title: name, ...meta });
}
