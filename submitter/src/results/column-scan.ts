/**
 * Checks one column chunk of a Parquet file against a column rule, page by page, reading only what
 * the rule needs:
 *
 *   - nothing, when the column may hold nulls and has no rule on its values, or cannot hold nulls
 *     (REQUIRED) and has none;
 *   - the definition levels only, when the rule forbids nulls and the column is OPTIONAL (values
 *     are never decoded: strings are not turned into JS strings);
 *   - the dictionary once, when the rule is on values (range, allowed values, pattern, NaN) and a
 *     page is dictionary-encoded: every value of such a page is one of the dictionary's, so a
 *     dictionary that keeps the rule proves the page keeps it. Only when a dictionary entry breaks
 *     the rule are the page's indices decoded, to name the rows;
 *   - the values, for pages written without a dictionary (PLAIN, DELTA_*, BYTE_STREAM_SPLIT).
 *
 * The chunk's bytes are fetched in windows (WINDOW bytes, or one page if larger) and only one page
 * is decoded at a time, so memory is bounded by the window and the largest page, not by the row
 * group (Spark writes row groups of 128 MiB and more) or the file. Flat columns only: nested
 * columns fail the type check before they get here.
 *
 * Built on hyparquet's page decoders (hyparquet/src/*.js, pinned to one version in package.json).
 */
import type { AsyncBuffer, ColumnChunk, DecodedArray, PageHeader, SchemaElement } from "hyparquet";
import { parquetHeader } from "hyparquet/src/column.js";
import { DEFAULT_PARSERS, convert } from "hyparquet/src/convert.js";
import { decompressPage, readDataPage, readDataPageV2 } from "hyparquet/src/datapage.js";
import { readRleBitPackedHybrid } from "hyparquet/src/encoding.js";
import { readPlain } from "hyparquet/src/plain.js";
import { getSchemaPath } from "hyparquet/src/schema.js";
import { compressors } from "hyparquet-compressors";
import type { ColumnRule } from "./columns.js";
import type { ParquetFooter } from "./parquet.js";

/** Bytes fetched per read of a column chunk. */
export const WINDOW = 4 * 2 ** 20;

/** What a rule needs read from a column. */
export interface ColumnNeeds {
  nulls: boolean;
  values: boolean;
}

export function needsOf(rule: ColumnRule, element: SchemaElement): ColumnNeeds {
  const numeric = rule.sparkType === "double" || rule.sparkType === "float";
  return {
    nulls: !rule.nullable && element.repetition_type === "OPTIONAL",
    values: rule.minimum !== undefined || rule.maximum !== undefined || rule.enum !== undefined || rule.pattern !== undefined || numeric,
  };
}

/** Why a non-null value breaks the rule, or undefined when it keeps it. */
export function valueProblem(rule: ColumnRule, v: unknown): string | undefined {
  if (typeof v === "number" || typeof v === "bigint") {
    const n = Number(v);
    if (Number.isNaN(n)) return "is NaN";
    if (rule.minimum !== undefined && n < rule.minimum) return `${n} is below the minimum ${rule.minimum}`;
    if (rule.maximum !== undefined && n > rule.maximum) return `${n} is above the maximum ${rule.maximum}`;
  }
  if (rule.enum && !rule.enum.includes(v as string)) return `${JSON.stringify(v)} is not one of ${rule.enum.join(", ")}`;
  if (rule.pattern && !rule.pattern.test(v as string)) return `${JSON.stringify(v)} does not match ${rule.pattern.source}`;
  return undefined;
}

/** Called for each row that breaks the rule; row counts from the first row of the file. */
export type OnProblem = (row: number, message: string) => void;

export interface ChunkScan {
  rows: number;
  pages: number;
  /** Pages whose values were decoded (no dictionary, or a dictionary entry broke the rule). */
  decodedPages: number;
  bytesRead: number;
}

/** Reads a byte range of a file forward, WINDOW bytes at a time. */
class Window {
  private view = new DataView(new ArrayBuffer(0));
  private start = 0;
  bytesRead = 0;
  constructor(
    private readonly file: AsyncBuffer,
    public pos: number,
    private readonly end: number,
  ) {}
  get done() {
    return this.pos >= this.end;
  }
  /** Makes [pos, pos + n) readable (n is capped at the end of the range); returns a reader at pos. */
  async at(n: number): Promise<{ view: DataView; offset: number }> {
    const want = Math.min(this.pos + n, this.end);
    if (this.pos < this.start || want > this.start + this.view.byteLength) {
      const to = Math.min(this.end, Math.max(want, this.pos + WINDOW));
      const buf = await this.file.slice(this.pos, to);
      this.view = new DataView(buf);
      this.start = this.pos;
      this.bytesRead += buf.byteLength;
    }
    return { view: this.view, offset: this.pos - this.start };
  }
  async header(): Promise<PageHeader> {
    // A page header is a few dozen bytes; page statistics can make it larger, so retry with more.
    for (let n = 4096; ; n *= 16) {
      const reader = await this.at(n);
      try {
        const header = parquetHeader(reader);
        this.pos += reader.offset - (this.pos - this.start);
        return header;
      } catch (e) {
        if (!(e instanceof RangeError) || this.pos + n >= this.end) throw e;
      }
    }
  }
  async bytes(n: number): Promise<Uint8Array> {
    const reader = await this.at(n);
    const out = new Uint8Array(reader.view.buffer, reader.view.byteOffset + reader.offset, n);
    this.pos += n;
    return out;
  }
}

const bitWidth = (max: number) => 32 - Math.clz32(max);

/** Definition levels of a v1 data page (already decompressed), and the reader left after them. */
function levelsV1(page: Uint8Array, numValues: number, maxDef: number) {
  const reader = { view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: 0 };
  let defs: Uint8Array | undefined;
  if (maxDef) {
    defs = new Uint8Array(numValues);
    readRleBitPackedHybrid(reader, bitWidth(maxDef), defs);
  }
  return { defs, reader };
}

/**
 * Scans one column chunk (row group `group`, column `rule.name`) of a file and reports through
 * onProblem every row that breaks the rule. Returns what it read.
 */
export async function scanColumnChunk(
  file: AsyncBuffer,
  footer: ParquetFooter,
  group: number,
  firstRow: number,
  rule: ColumnRule,
  onProblem: OnProblem,
): Promise<ChunkScan> {
  const rowGroup = footer.metadata.row_groups[group]!;
  const chunk: ColumnChunk | undefined = rowGroup.columns.find((c) => c.meta_data?.path_in_schema.length === 1 && c.meta_data.path_in_schema[0] === rule.name);
  const scan: ChunkScan = { rows: 0, pages: 0, decodedPages: 0, bytesRead: 0 };
  const meta = chunk?.meta_data;
  if (!meta) return scan;
  const schemaPath = getSchemaPath(footer.metadata.schema, [rule.name]);
  const element = schemaPath.at(-1)!.element;
  const needs = needsOf(rule, element);
  if (!needs.nulls && !needs.values) return { ...scan, rows: Number(rowGroup.num_rows) };
  const maxDef = element.repetition_type === "OPTIONAL" ? 1 : 0;
  const decoder = { pathInSchema: meta.path_in_schema, type: meta.type, element, schemaPath, codec: meta.codec, parsers: DEFAULT_PARSERS, compressors, utf8: true };
  const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
  const window = new Window(file, start, start + Number(meta.total_compressed_size));

  /** Dictionary entries that break the rule, by index; undefined until a dictionary page is read. */
  let badEntries: Map<number, string> | undefined;
  let row = firstRow;
  const total = Number(rowGroup.num_rows);

  // Reports the rows of a page that break the rule. defs: definition levels (undefined: no nulls
  // possible); values: the page's non-null values, or undefined when they need no check.
  const check = (n: number, defs: Uint8Array | number[] | undefined, problemOf: ((i: number) => string | undefined) | undefined) => {
    let v = 0;
    for (let r = 0; r < n; r++) {
      if (defs && defs.length && defs[r] !== maxDef) {
        if (needs.nulls) onProblem(row + r, "is null, but the column is not nullable");
        continue;
      }
      if (problemOf) {
        const p = problemOf(v);
        if (p !== undefined) onProblem(row + r, p);
      }
      v++;
    }
  };

  while (!window.done && scan.rows < total) {
    const header = await window.header();
    const compressed = await window.bytes(header.compressed_page_size);
    if (header.type === "DICTIONARY_PAGE") {
      if (!needs.values) continue;
      const page = decompressPage(compressed, header.uncompressed_page_size, meta.codec, compressors);
      const reader = { view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: 0 };
      const entries = convert(readPlain(reader, meta.type, header.dictionary_page_header!.num_values, element.type_length), decoder);
      badEntries = new Map();
      for (let i = 0; i < entries.length; i++) {
        const p = valueProblem(rule, entries[i]);
        if (p !== undefined) badEntries.set(i, p);
      }
      continue;
    }
    if (header.type !== "DATA_PAGE" && header.type !== "DATA_PAGE_V2") continue;
    scan.pages++;
    const v2 = header.type === "DATA_PAGE_V2";
    const n = v2 ? header.data_page_header_v2!.num_values : header.data_page_header!.num_values;
    const encoding = v2 ? header.data_page_header_v2!.encoding : header.data_page_header!.encoding;
    const dictionaryEncoded = encoding === "PLAIN_DICTIONARY" || encoding === "RLE_DICTIONARY";

    if (!needs.values || (dictionaryEncoded && badEntries && badEntries.size === 0)) {
      // Nulls only: the definition levels, never the values.
      let defs: Uint8Array | undefined;
      if (maxDef && needs.nulls) {
        if (v2) {
          const h = header.data_page_header_v2!;
          if (h.num_nulls > 0) {
            defs = new Uint8Array(n);
            const reader = { view: new DataView(compressed.buffer, compressed.byteOffset, compressed.byteLength), offset: h.repetition_levels_byte_length };
            readRleBitPackedHybrid(reader, bitWidth(maxDef), defs, h.definition_levels_byte_length);
          }
        } else {
          defs = levelsV1(decompressPage(compressed, header.uncompressed_page_size, meta.codec, compressors), n, maxDef).defs;
        }
      }
      check(n, defs, undefined);
    } else if (dictionaryEncoded && badEntries && !v2) {
      // Some dictionary entries break the rule: decode this page's indices to name the rows.
      scan.decodedPages++;
      const { defs, reader } = levelsV1(decompressPage(compressed, header.uncompressed_page_size, meta.codec, compressors), n, maxDef);
      let nonNull = n;
      if (defs) for (let r = 0; r < n; r++) if (defs[r] !== maxDef) nonNull--;
      const width = reader.view.getUint8(reader.offset++);
      const indices = new Uint32Array(nonNull);
      if (width) readRleBitPackedHybrid(reader, width, indices, reader.view.byteLength - reader.offset);
      const bad = badEntries;
      check(n, defs, (i) => bad.get(indices[i]!));
    } else {
      // No dictionary (or a v2 page that needs one): decode the values.
      scan.decodedPages++;
      if (dictionaryEncoded && !badEntries) throw new Error(`column ${rule.name}: a dictionary-encoded page comes before any dictionary page`);
      const data = v2
        ? readDataPageV2(compressed, header, decoder)
        : readDataPage(decompressPage(compressed, header.uncompressed_page_size, meta.codec, compressors), header.data_page_header!, decoder);
      let values: DecodedArray = data.dataPage;
      if (dictionaryEncoded) {
        const bad = badEntries!;
        check(n, data.definitionLevels, (i) => bad.get(values[i] as number));
      } else {
        values = convert(values, decoder);
        check(n, data.definitionLevels, (i) => valueProblem(rule, values[i]));
      }
    }
    row += n;
    scan.rows += n;
  }
  scan.bytesRead = window.bytesRead;
  return scan;
}
