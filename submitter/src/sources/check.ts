/**
 * A source definition read and checked without Spark: the YAML against its schema, each table's
 * columns against the canonical table, the options against the format, the time zones. Pure: the
 * text comes in, the definition or every problem at once (file, line, dotted path, fix) goes out.
 */
import {
  CANONICAL_TABLES,
  sourceDefinition,
  tables,
  type CanonicalTable,
  type PresentSource,
  type SourceDefinition,
} from "../../../schemas/src/index.js";
import { tableJsonSchema } from "../../../schemas/src/export.js";
import { SparkjobsError, type Problem } from "../errors.js";
import { columnRules } from "../results/columns.js";
import { dottedPath, parseYaml, zodProblems } from "../config/yaml-file.js";

/** Keys a table numbers itself when the source has none. */
export const GENERATED_COLUMNS: Partial<Record<CanonicalTable, string>> = {
  transactions: "line_no",
  events: "event_id",
  campaigns: "exposure_id",
};

/** The canonical columns of a table, in order, with their Spark type and nullability. */
export function canonicalColumns(table: CanonicalTable) {
  return columnRules(tableJsonSchema(tables[table]));
}

export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export function checkSourceDefinition(file: string, text: string): SourceDefinition {
  const parsed = parseYaml(file, text);
  if (parsed.problems.length) throw invalidSources(file, parsed.problems);
  // A table left out is reported as such, and read as absent so that the rest is still checked.
  const problems: Problem[] = [];
  const value = parsed.value as { tables?: unknown } | undefined;
  if (value && typeof value === "object" && value.tables && typeof value.tables === "object" && !Array.isArray(value.tables)) {
    const given = value.tables as Record<string, unknown>;
    for (const table of CANONICAL_TABLES) {
      if (table in given) continue;
      problems.push({ file, line: parsed.lineOf(["tables"]), path: `tables.${table}`, message: `is missing: map it (path or table, format, columns) or declare it absent with ${table}: { absent: true }` });
      given[table] = { absent: true };
    }
  }
  const result = sourceDefinition.safeParse(parsed.value);
  if (!result.success) throw invalidSources(file, [...problems, ...zodProblems(file, parsed, result.error)]);
  const def = result.data;
  const at = (path: (string | number)[], message: string) => problems.push({ file, line: parsed.lineOf(path), path: dottedPath(path), message });

  if (!problems.length && CANONICAL_TABLES.every((t) => "absent" in def.tables[t])) at(["tables"], "every table is declared absent: map at least one (transactions, for most jobs)");
  if (!isValidTimeZone(def.timezone)) at(["timezone"], `"${def.timezone}" is not a time zone; use a name such as UTC, Europe/London or America/New_York`);
  for (const name of CANONICAL_TABLES) {
    const spec = def.tables[name];
    if ("absent" in spec) continue;
    const where = (...rest: (string | number)[]) => ["tables", name, ...rest];
    checkPresent(name, spec, where, at);
  }
  if (problems.length) throw invalidSources(file, problems);
  return def;
}

function checkPresent(name: CanonicalTable, spec: PresentSource, where: (...rest: (string | number)[]) => (string | number)[], at: (path: (string | number)[], message: string) => void) {
  if (spec.path === undefined && spec.table === undefined) {
    at(where(), `give the table's files (path: ...) or a catalog table (table: db.table), or declare it absent (absent: true)`);
  }
  if (spec.path !== undefined && spec.table !== undefined) at(where("table"), "give either path or table, not both");
  if (spec.table !== undefined && spec.format !== "parquet" && spec.format !== "delta" && spec.format !== "iceberg") {
    at(where("format"), `a catalog table is read through the catalog: leave format out (it says ${spec.format})`);
  }
  if (spec.csv !== undefined && spec.format !== "csv") at(where("csv"), `csv options need format: csv (format is ${spec.format})`);
  if (spec.timezone !== undefined && !isValidTimeZone(spec.timezone)) at(where("timezone"), `"${spec.timezone}" is not a time zone; use a name such as UTC or Europe/London`);
  const columns = canonicalColumns(name);
  const known = new Set(columns.map((c) => c.name));
  if (spec.features && name !== "customers") at(where("features"), "features are customer attributes: declare them under tables.customers");
  for (const kind of ["numeric", "categorical"] as const) {
    for (const feature of Object.keys(spec.features?.[kind] ?? {})) {
      if (known.has(feature)) at(where("features", kind, feature), `"${feature}" is a column of the canonical table ${name}: map it under columns, or give the feature another name`);
      if (kind === "categorical" && feature in (spec.features?.numeric ?? {})) at(where("features", kind, feature), `"${feature}" is declared numeric too: give it one kind`);
    }
  }
  for (const column of Object.keys(spec.columns)) {
    if (!known.has(column)) {
      at(where("columns", column), `"${column}" is not a column of the canonical table ${name} (its columns: ${[...known].join(", ")})`);
    }
  }
}

function invalidSources(file: string, problems: Problem[]): SparkjobsError {
  return new SparkjobsError("definition", `source definition ${file} is not valid (${problems.length} problem${problems.length === 1 ? "" : "s"})`, {
    problems,
    fix: "correct the fields listed above; the reference is schemas/json/source-definition.schema.json and the README's \"Your own data\"",
  });
}
