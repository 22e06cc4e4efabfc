/**
 * Reading Parquet written by Spark: the footer alone (schema, row count) and the columns,
 * one row group at a time so memory stays bounded by the largest row group, not the file.
 * hyparquet was chosen on measured numbers: docs/parquet-readers.md.
 */
import { parquetMetadataAsync, parquetRead, type AsyncBuffer, type FileMetaData, type SchemaElement } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import type { Storage } from "../stage/storage.js";

export interface ParquetColumn {
  name: string;
  /** The Spark SQL type this column reads back as (string, int, bigint, double, date, timestamp, ...). */
  sparkType: string;
  nullable: boolean;
}

export interface ParquetFooter {
  rows: number;
  columns: ParquetColumn[];
  rowGroups: number;
  metadata: FileMetaData;
}

export function sparkTypeOf(el: SchemaElement): string {
  const logical = el.logical_type;
  switch (el.type) {
    case "BOOLEAN":
      return "boolean";
    case "INT32":
      if (logical?.type === "DATE" || el.converted_type === "DATE") return "date";
      if (logical?.type === "INTEGER") return logical.bitWidth === 8 ? "tinyint" : logical.bitWidth === 16 ? "smallint" : "int";
      if (el.converted_type === "INT_8") return "tinyint";
      if (el.converted_type === "INT_16") return "smallint";
      if (logical?.type === "DECIMAL" || el.converted_type === "DECIMAL") return `decimal(${el.precision},${el.scale})`;
      return "int";
    case "INT64":
      if (logical?.type === "TIMESTAMP") return logical.isAdjustedToUTC ? "timestamp" : "timestamp_ntz";
      if (el.converted_type === "TIMESTAMP_MICROS" || el.converted_type === "TIMESTAMP_MILLIS") return "timestamp";
      if (logical?.type === "DECIMAL" || el.converted_type === "DECIMAL") return `decimal(${el.precision},${el.scale})`;
      return "bigint";
    case "INT96":
      return "timestamp";
    case "FLOAT":
      return "float";
    case "DOUBLE":
      return "double";
    case "BYTE_ARRAY":
      if (logical?.type === "STRING" || el.converted_type === "UTF8" || logical?.type === "ENUM" || logical?.type === "JSON") return "string";
      if (logical?.type === "DECIMAL" || el.converted_type === "DECIMAL") return `decimal(${el.precision},${el.scale})`;
      return "binary";
    case "FIXED_LEN_BYTE_ARRAY":
      if (logical?.type === "DECIMAL" || el.converted_type === "DECIMAL") return `decimal(${el.precision},${el.scale})`;
      return "binary";
    default:
      return el.num_children ? "struct" : "unknown";
  }
}

/** Schema and row count from the footer only (a few kilobytes read, whatever the file size). */
export async function readFooter(file: AsyncBuffer): Promise<ParquetFooter> {
  const metadata = await parquetMetadataAsync(file);
  const [, ...fields] = metadata.schema;
  const columns: ParquetColumn[] = [];
  // Top-level columns only; nested groups are reported as struct.
  let i = 0;
  const skip = (n: number): void => {
    for (let c = 0; c < n; c++) {
      const el = fields[i++]!;
      if (el.num_children) skip(el.num_children);
    }
  };
  while (i < fields.length) {
    const el = fields[i++]!;
    columns.push({ name: el.name, sparkType: sparkTypeOf(el), nullable: el.repetition_type !== "REQUIRED" });
    if (el.num_children) skip(el.num_children);
  }
  return { rows: Number(metadata.num_rows), columns, rowGroups: metadata.row_groups.length, metadata };
}

export type ColumnChunk = ArrayLike<unknown>;

/**
 * Calls onRowGroup with the requested columns of each row group in turn. Only one row group's
 * decoded columns are alive at a time.
 */
export async function forEachRowGroup(
  file: AsyncBuffer,
  footer: ParquetFooter,
  columns: string[],
  onRowGroup: (chunk: Map<string, ColumnChunk>, rows: number) => void,
): Promise<void> {
  let rowStart = 0;
  for (const group of footer.metadata.row_groups) {
    const rows = Number(group.num_rows);
    const rowEnd = rowStart + rows;
    const chunk = new Map<string, unknown[]>();
    await parquetRead({
      file,
      metadata: footer.metadata,
      columns,
      rowStart,
      rowEnd,
      compressors, // snappy (Spark's default) is built in; gzip, zstd, brotli, lz4 for files from other writers
      onChunk: (data) => {
        // A row group's column may arrive in several pieces; keep only the requested range.
        const from = Math.max(rowStart, data.rowStart);
        const to = Math.min(rowEnd, data.rowEnd);
        if (to <= from) return;
        let parts = chunk.get(data.columnName);
        if (!parts) chunk.set(data.columnName, (parts = []));
        const values = data.columnData as ArrayLike<unknown>;
        for (let r = from; r < to; r++) parts[r - rowStart] = values[r - data.rowStart];
      },
    });
    onRowGroup(chunk, rows);
    rowStart = rowEnd;
  }
}

/** All rows of a small file as objects (summary tables, profiles); never for large outputs. */
export async function readSmallTable(storage: Storage, uri: string, limit = 100_000): Promise<Record<string, unknown>[]> {
  const file = await storage.open(uri);
  const footer = await readFooter(file);
  if (footer.rows > limit) throw new Error(`${uri} has ${footer.rows} rows; readSmallTable reads at most ${limit}`);
  const rows: Record<string, unknown>[] = [];
  await forEachRowGroup(file, footer, footer.columns.map((c) => c.name), (chunk, n) => {
    for (let r = 0; r < n; r++) {
      const row: Record<string, unknown> = {};
      for (const [name, values] of chunk) row[name] = values[r];
      rows.push(row);
    }
  });
  return rows;
}
