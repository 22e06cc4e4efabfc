/**
 * Benchmark: three ways to read a Spark-written Parquet file in Node (see docs/parquet-readers.md).
 *
 *   (a) parquetjs-lite  – row cursor: ParquetReader.openFile + getCursor().next()            reader "parquetjs-lite"
 *                         (+ getCursor().nextRowGroup(), the same decoder without the cursor   "parquetjs-lite-rowgroup")
 *   (b) hyparquet       – column-wise with hyparquet-compressors for snappy:
 *                         parquetRead({ onChunk }) over asyncBufferFromFile (range reads)        "hyparquet-chunk"
 *                         (+ the same over an in-memory ArrayBuffer                             "hyparquet-chunk-buffer",
 *                            parquetReadObjects({ columns })                                    "hyparquet-objects")
 *   (c) parquet-wasm    – readParquet(bytes) -> Table.intoIPCStream() -> apache-arrow tableFromIPC,
 *                         then iterate every Arrow column                                       "parquet-wasm"
 *                         (+ readParquet(bytes, { batchSize: 65536 })                           "parquet-wasm-batch64k",
 *                            ParquetFile.fromFile(fs.openAsBlob(path)).stream(), range reads     "parquet-wasm-blob-stream")
 *
 * Every reader touches every value and computes the same checksums (rows, per-column non-null counts,
 * integer and double sums in row order, string lengths, segment value counts, timestamp and date sums),
 * so nothing can be skipped lazily and any decoding difference shows up as a mismatch. If the fixture
 * directory holds _bench_checksums.json (written by make_parquet_fixture.py with pyarrow), it is the reference.
 *
 * Modes (compiled to dist/bench/parquet-readers.js):
 *   node --expose-gc dist/bench/parquet-readers.js read  <file.parquet|spark-output-dir> <reader>
 *       one read in this process; prints one JSON line {reader, rows, ms, cpuMs, checksums, memory, ...}
 *   node dist/bench/parquet-readers.js caps  <file.parquet|spark-output-dir>
 *       footer-only (schema + row count) read per library through a byte-counting range source; prints JSON
 *   node dist/bench/parquet-readers.js bench <file.parquet|spark-output-dir> [--reps 5] [--slow-reps 1] [--timeout-s 1800]
 *                                            [--readers a,b] [--out path]
 *       driver: every reader in its own `node --expose-gc` child, N repetitions in rotating order (readers marked
 *       slow — the parquetjs-lite cursor, ~14 min per read here — only --slow-reps times), checksum agreement,
 *       a table with ratios against the fastest reader, JSON to bench/out/parquet-readers.json.
 *       Exit code 0 only if every reader finished and all checksums agree.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------------------------------------
// Checksums
// ---------------------------------------------------------------------------------------------

/** Exact sum of integers (each |x| < 2^42) kept in a double as long as it is exact, then folded into a bigint. */
class ExactIntSum {
  private small = 0;
  private k = 0;
  private big = 0n;
  add(x: number): void {
    this.small += x;
    if (++this.k === 1024) {
      this.big += BigInt(this.small);
      this.small = 0;
      this.k = 0;
    }
  }
  value(): bigint {
    return this.big + BigInt(this.small);
  }
}

interface StrAcc {
  nonNull: number;
  chars: number;
}
interface NumAcc {
  nonNull: number;
  sum: number;
}

const COLUMNS = [
  'customer_id',
  'segment',
  'cluster',
  'recency_days',
  'frequency',
  'monetary',
  'avg_order_value',
  'tenure_days',
  'top_category',
  'last_order_ts',
  'snapshot_date',
] as const;
type ColumnName = (typeof COLUMNS)[number];
type NumColumn = 'cluster' | 'recency_days' | 'frequency' | 'monetary' | 'avg_order_value' | 'tenure_days';
type StrColumn = 'customer_id' | 'top_category';
const NUM_COLUMNS: readonly NumColumn[] = ['cluster', 'recency_days', 'frequency', 'monetary', 'avg_order_value', 'tenure_days'];
const MS_PER_DAY = 86_400_000;

export interface Checksums {
  rows: number;
  customer_id: StrAcc;
  segment: { nonNull: number; counts: Record<string, number> };
  cluster: NumAcc;
  recency_days: NumAcc;
  frequency: NumAcc;
  monetary: NumAcc;
  avg_order_value: NumAcc;
  tenure_days: NumAcc;
  top_category: StrAcc;
  last_order_ts: { nonNull: number; epochMillisSum: string };
  snapshot_date: { nonNull: number; epochDaysSum: number };
}

class Acc {
  rows = 0;
  readonly str: Record<StrColumn, StrAcc> = {
    customer_id: { nonNull: 0, chars: 0 },
    top_category: { nonNull: 0, chars: 0 },
  };
  readonly num: Record<NumColumn, NumAcc> = {
    cluster: { nonNull: 0, sum: 0 },
    recency_days: { nonNull: 0, sum: 0 },
    frequency: { nonNull: 0, sum: 0 },
    monetary: { nonNull: 0, sum: 0 },
    avg_order_value: { nonNull: 0, sum: 0 },
    tenure_days: { nonNull: 0, sum: 0 },
  };
  segN = 0;
  readonly seg = new Map<string, number>();
  tsN = 0;
  readonly tsMillis = new ExactIntSum();
  /** sum of (micros mod 1000); null once a reader only delivered milliseconds */
  tsMicroRemainder: number | null = 0;
  dateN = 0;
  dateDays = 0;

  addStr(a: StrAcc, v: unknown): void {
    if (v === null || v === undefined) return;
    a.nonNull++;
    a.chars += (v as string).length;
  }
  addSegment(v: unknown): void {
    if (v === null || v === undefined) return;
    this.segN++;
    const s = v as string;
    this.seg.set(s, (this.seg.get(s) ?? 0) + 1);
  }
  addNum(a: NumAcc, v: unknown): void {
    if (v === null || v === undefined) return;
    a.nonNull++;
    a.sum += typeof v === 'bigint' ? Number(v) : (v as number);
  }
  /** parquetjs-lite: dictionary-encoded numbers arrive as JS strings (String(value)); coerce and count them */
  readonly stringNumbers = new Map<string, number>();
  addNumLoose(name: NumColumn, v: unknown): void {
    if (v === null || v === undefined) return;
    const a = this.num[name];
    a.nonNull++;
    if (typeof v === 'string') {
      this.stringNumbers.set(name, (this.stringNumbers.get(name) ?? 0) + 1);
      a.sum += Number(v);
    } else a.sum += typeof v === 'bigint' ? Number(v) : (v as number);
  }
  /** epoch microseconds as bigint or number (|x| < 2^53) */
  addTsMicros(v: unknown): void {
    if (v === null || v === undefined) return;
    const n = typeof v === 'bigint' ? Number(v) : (v as number);
    const ms = Math.floor(n / 1000);
    this.tsN++;
    this.tsMillis.add(ms);
    if (this.tsMicroRemainder !== null) this.tsMicroRemainder += n - ms * 1000;
  }
  addTsDate(v: unknown): void {
    if (v === null || v === undefined) return;
    this.tsN++;
    this.tsMillis.add((v as Date).getTime());
    this.tsMicroRemainder = null;
  }
  addDateDays(v: unknown): void {
    if (v === null || v === undefined) return;
    this.dateN++;
    this.dateDays += v as number;
  }
  addDateDate(v: unknown): void {
    if (v === null || v === undefined) return;
    this.dateN++;
    this.dateDays += (v as Date).getTime() / MS_PER_DAY;
  }

  result(): { checksums: Checksums; lastOrderTsEpochMicrosSum: string | null } {
    const counts: Record<string, number> = {};
    for (const k of [...this.seg.keys()].sort()) counts[k] = this.seg.get(k) ?? 0;
    const millis = this.tsMillis.value();
    return {
      checksums: {
        rows: this.rows,
        customer_id: this.str.customer_id,
        segment: { nonNull: this.segN, counts },
        cluster: this.num.cluster,
        recency_days: this.num.recency_days,
        frequency: this.num.frequency,
        monetary: this.num.monetary,
        avg_order_value: this.num.avg_order_value,
        tenure_days: this.num.tenure_days,
        top_category: this.str.top_category,
        last_order_ts: { nonNull: this.tsN, epochMillisSum: millis.toString() },
        snapshot_date: { nonNull: this.dateN, epochDaysSum: this.dateDays },
      },
      lastOrderTsEpochMicrosSum:
        this.tsMicroRemainder === null ? null : (millis * 1000n + BigInt(this.tsMicroRemainder)).toString(),
    };
  }

  /**
   * One decoded column run (hyparquet onChunk / objects). Timestamps arrive as epoch-micro bigints
   * and dates as epoch days because the hyparquet readers pass parsers that keep the raw values.
   */
  column(name: string, data: ArrayLike<unknown>, start = 0, end = data.length): void {
    switch (name as ColumnName) {
      case 'customer_id': {
        const a = this.str.customer_id;
        for (let i = start; i < end; i++) this.addStr(a, data[i]);
        this.rows += end - start;
        return;
      }
      case 'top_category': {
        const a = this.str.top_category;
        for (let i = start; i < end; i++) this.addStr(a, data[i]);
        return;
      }
      case 'segment':
        for (let i = start; i < end; i++) this.addSegment(data[i]);
        return;
      case 'last_order_ts':
        for (let i = start; i < end; i++) this.addTsMicros(data[i]);
        return;
      case 'snapshot_date':
        for (let i = start; i < end; i++) this.addDateDays(data[i]);
        return;
      default: {
        const a = this.num[name as NumColumn];
        if (!a) throw new Error(`unexpected column ${name}`);
        for (let i = start; i < end; i++) this.addNum(a, data[i]);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Readers (each imports its library lazily, so a child's RSS only holds the library it measures)
// ---------------------------------------------------------------------------------------------

interface ReadResult {
  acc: Acc;
  /** process.memoryUsage() taken while the decoded data is still reachable */
  live: NodeJS.MemoryUsage;
  /** parquet-wasm only: size of the wasm linear memory at the end (it never shrinks, so it is its peak) */
  wasmMemoryBytes?: number;
  notes?: string[];
}

// parquetjs-lite ships no type declarations: the subset used here.
interface PqjsCursor {
  next(): Promise<Record<string, unknown> | null>;
  nextRowGroup(): Promise<Record<string, unknown>[] | null>;
}
interface PqjsReader {
  getCursor(columns?: string[]): PqjsCursor;
  getRowCount(): unknown;
  getSchema(): { fields: Record<string, unknown> };
  close(): Promise<void>;
}
interface PqjsModule {
  ParquetReader: {
    openFile(p: string): Promise<PqjsReader>;
    openEnvelopeReader(env: unknown, opts?: unknown): Promise<PqjsReader>;
  };
  ParquetEnvelopeReader: new (
    readFn: (offset: number, length: number, file?: string) => Promise<Buffer>,
    closeFn: () => Promise<void>,
    fileSize: number,
    options?: unknown,
  ) => unknown;
}
const require = createRequire(import.meta.url);
const loadParquetjs = (): PqjsModule => require('parquetjs-lite') as PqjsModule;

function addPqjsRow(acc: Acc, row: Record<string, unknown>): void {
  const s = acc.str;
  acc.rows++;
  acc.addStr(s.customer_id, row.customer_id);
  acc.addSegment(row.segment);
  acc.addNumLoose('cluster', row.cluster);
  acc.addNumLoose('recency_days', row.recency_days);
  acc.addNumLoose('frequency', row.frequency);
  acc.addNumLoose('monetary', row.monetary);
  acc.addNumLoose('avg_order_value', row.avg_order_value);
  acc.addNumLoose('tenure_days', row.tenure_days);
  acc.addStr(s.top_category, row.top_category);
  acc.addTsDate(row.last_order_ts);
  acc.addDateDate(row.snapshot_date);
}

function pqjsNotes(acc: Acc): string[] {
  const notes = ['TIMESTAMP_MICROS is returned as a JS Date: microseconds are truncated to milliseconds'];
  const strs = [...acc.stringNumbers].map(([k, n]) => `${k} ${n}/${acc.num[k as NumColumn].nonNull}`);
  if (strs.length)
    notes.push(
      `numeric values returned as JS strings (decodeDictionaryPage maps the dictionary through toString()), coerced with Number(): ${strs.join(', ')}`,
    );
  return notes;
}

/** hyparquet parsers that keep raw values: epoch-micro bigint for TIMESTAMP(MICROS), epoch days for DATE. */
const rawParsers = {
  timestampFromMicroseconds: (v: bigint): bigint => v,
  dateFromDays: (d: number): number => d,
};

type Reader = (file: string) => Promise<ReadResult>;
type Loader = () => Promise<Reader>;

const READERS: Record<string, { lib: string; describe: string; load: Loader; slow?: boolean }> = {
  'parquetjs-lite': {
    lib: 'parquetjs-lite',
    slow: true,
    describe: 'ParquetReader.openFile + getCursor().next() per row (row objects; TIMESTAMP_MICROS -> Date, DATE -> Date)',
    load: async () => {
      const pq = loadParquetjs();
      return async (file) => {
        const acc = new Acc();
        const reader = await pq.ParquetReader.openFile(file);
        const cursor = reader.getCursor();
        let row: Record<string, unknown> | null;
        let live: NodeJS.MemoryUsage | undefined;
        while ((row = await cursor.next())) {
          addPqjsRow(acc, row);
          // the cursor holds the whole materialized row group: sample once it is decoded
          if (acc.rows === 1) live = process.memoryUsage();
        }
        live = maxMem(live, process.memoryUsage());
        await reader.close();
        return { acc, live, notes: pqjsNotes(acc) };
      };
    },
  },
  'parquetjs-lite-rowgroup': {
    lib: 'parquetjs-lite',
    describe: 'ParquetReader.openFile + getCursor().nextRowGroup() (array of row objects per row group; public method, not in the README)',
    load: async () => {
      const pq = loadParquetjs();
      return async (file) => {
        const acc = new Acc();
        const reader = await pq.ParquetReader.openFile(file);
        const cursor = reader.getCursor();
        let live: NodeJS.MemoryUsage | undefined;
        let rows: Record<string, unknown>[] | null;
        while ((rows = await cursor.nextRowGroup())) {
          live = maxMem(live, process.memoryUsage());
          for (const row of rows) addPqjsRow(acc, row);
        }
        await reader.close();
        return { acc, live: maxMem(live, process.memoryUsage()), notes: pqjsNotes(acc) };
      };
    },
  },
  'hyparquet-chunk': {
    lib: 'hyparquet',
    describe: 'parquetRead({ file: asyncBufferFromFile(path), compressors, onChunk }) — columnar chunks from an async range source',
    load: async () => {
      const { parquetRead, asyncBufferFromFile } = await import('hyparquet');
      const { compressors } = await import('hyparquet-compressors');
      return async (file) => {
        const acc = new Acc();
        const seen = new Map<string, number>();
        let live: NodeJS.MemoryUsage | undefined;
        await parquetRead({
          file: await asyncBufferFromFile(file),
          compressors,
          parsers: rawParsers,
          onChunk: (c) => {
            // sums are order-sensitive (doubles): require each column's chunks to arrive in row order
            const prev = seen.get(c.columnName) ?? 0;
            if (c.rowStart !== prev) throw new Error(`chunk for ${c.columnName} starts at ${c.rowStart}, expected ${prev}`);
            seen.set(c.columnName, c.rowEnd);
            acc.column(c.columnName, c.columnData as ArrayLike<unknown>);
            live = maxMem(live, process.memoryUsage());
          },
        });
        return { acc, live: maxMem(live, process.memoryUsage()) };
      };
    },
  },
  'hyparquet-chunk-buffer': {
    lib: 'hyparquet',
    describe: 'parquetRead({ file: ArrayBuffer of the whole file (fs.readFile), compressors, onChunk })',
    load: async () => {
      const { parquetRead } = await import('hyparquet');
      const { compressors } = await import('hyparquet-compressors');
      return async (file) => {
        const acc = new Acc();
        const seen = new Map<string, number>();
        const buf = await fsp.readFile(file);
        const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
        let live: NodeJS.MemoryUsage | undefined;
        await parquetRead({
          file: ab,
          compressors,
          parsers: rawParsers,
          onChunk: (c) => {
            const prev = seen.get(c.columnName) ?? 0;
            if (c.rowStart !== prev) throw new Error(`chunk for ${c.columnName} starts at ${c.rowStart}, expected ${prev}`);
            seen.set(c.columnName, c.rowEnd);
            acc.column(c.columnName, c.columnData as ArrayLike<unknown>);
            live = maxMem(live, process.memoryUsage());
          },
        });
        return { acc, live: maxMem(live, process.memoryUsage()) };
      };
    },
  },
  'hyparquet-objects': {
    lib: 'hyparquet',
    describe: 'parquetReadObjects({ file: asyncBufferFromFile(path), columns: all 11, compressors }) — array of row objects',
    load: async () => {
      const { parquetReadObjects, asyncBufferFromFile } = await import('hyparquet');
      const { compressors } = await import('hyparquet-compressors');
      return async (file) => {
        const acc = new Acc();
        const rows = await parquetReadObjects({
          file: await asyncBufferFromFile(file),
          columns: [...COLUMNS],
          compressors,
          parsers: rawParsers,
        });
        const live = process.memoryUsage();
        const s = acc.str;
        const n = acc.num;
        for (const row of rows) {
          acc.rows++;
          acc.addStr(s.customer_id, row.customer_id);
          acc.addSegment(row.segment);
          acc.addNum(n.cluster, row.cluster);
          acc.addNum(n.recency_days, row.recency_days);
          acc.addNum(n.frequency, row.frequency);
          acc.addNum(n.monetary, row.monetary);
          acc.addNum(n.avg_order_value, row.avg_order_value);
          acc.addNum(n.tenure_days, row.tenure_days);
          acc.addStr(s.top_category, row.top_category);
          acc.addTsMicros(row.last_order_ts);
          acc.addDateDays(row.snapshot_date);
        }
        return { acc, live };
      };
    },
  },
  'parquet-wasm': {
    lib: 'parquet-wasm',
    describe: 'readParquet(fs.readFile bytes) -> Table.intoIPCStream() -> apache-arrow tableFromIPC, iterate every column',
    load: async () => {
      const pw = await import('parquet-wasm');
      const arrow = await import('apache-arrow');
      return async (file) => {
        const bytes = await fsp.readFile(file);
        const wasmTable = pw.readParquet(bytes);
        const table = arrow.tableFromIPC(wasmTable.intoIPCStream());
        const acc = new Acc();
        consumeArrowTable(acc, table);
        const live = process.memoryUsage();
        return { acc, live, wasmMemoryBytes: pw.wasmMemory().buffer.byteLength };
      };
    },
  },
  'parquet-wasm-batch64k': {
    lib: 'parquet-wasm',
    describe: 'as parquet-wasm, with readParquet(bytes, { batchSize: 65536 }) instead of the default 1024-row batches',
    load: async () => {
      const pw = await import('parquet-wasm');
      const arrow = await import('apache-arrow');
      return async (file) => {
        const bytes = await fsp.readFile(file);
        const wasmTable = pw.readParquet(bytes, { batchSize: 65536 });
        const table = arrow.tableFromIPC(wasmTable.intoIPCStream());
        const acc = new Acc();
        consumeArrowTable(acc, table);
        const live = process.memoryUsage();
        return { acc, live, wasmMemoryBytes: pw.wasmMemory().buffer.byteLength };
      };
    },
  },
  'parquet-wasm-blob-stream': {
    lib: 'parquet-wasm',
    describe: 'ParquetFile.fromFile(fs.openAsBlob(path)).stream() -> per RecordBatch intoIPCStream -> tableFromIPC (async range-read path)',
    load: async () => {
      const pw = await import('parquet-wasm');
      const arrow = await import('apache-arrow');
      return async (file) => {
        const blob = await fs.openAsBlob(file);
        const pf = await pw.ParquetFile.fromFile(blob);
        const stream = (await pf.stream()) as ReadableStream<import('parquet-wasm').RecordBatch>;
        const reader = stream.getReader();
        const acc = new Acc();
        let live: NodeJS.MemoryUsage | undefined;
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          const t = arrow.tableFromIPC(value.intoIPCStream());
          consumeArrowTable(acc, t);
          live = maxMem(live, process.memoryUsage());
        }
        pf.free();
        return { acc, live: maxMem(live, process.memoryUsage()), wasmMemoryBytes: pw.wasmMemory().buffer.byteLength };
      };
    },
  },
};

/** Primary reader per library, as named in the brief: (a), (b), (c). */
const PRIMARY: Record<string, string> = {
  'parquetjs-lite': '(a)',
  'hyparquet-chunk': '(b)',
  'parquet-wasm': '(c)',
};

function maxMem(a: NodeJS.MemoryUsage | undefined, b: NodeJS.MemoryUsage): NodeJS.MemoryUsage {
  if (!a) return b;
  return a.heapUsed + a.external + a.arrayBuffers >= b.heapUsed + b.external + b.arrayBuffers ? a : b;
}

// Minimal structural view of apache-arrow Data/Vector, so this file does not depend on Arrow's generics.
interface ArrowData {
  readonly length: number;
  readonly offset: number;
  readonly nullCount: number;
  readonly nullBitmap: Uint8Array | undefined;
  readonly values: ArrayLike<number | bigint> & { readonly length: number };
}
interface ArrowVector {
  readonly data: readonly ArrowData[];
  [Symbol.iterator](): IterableIterator<unknown>;
}
interface ArrowTableLike {
  getChild(name: string): unknown;
}

function isValid(d: ArrowData, i: number): boolean {
  if (d.nullCount === 0 || !d.nullBitmap) return true;
  const j = d.offset + i;
  return ((d.nullBitmap[j >> 3]! >> (j & 7)) & 1) === 1;
}

/**
 * Iterate an Arrow table: fixed-width columns through each chunk's typed array (values[offset+i],
 * validity bitmap when the chunk has nulls), strings through the Vector iterator (UTF-8 -> JS string).
 */
function consumeArrowTable(acc: Acc, table: ArrowTableLike): void {
  const col = (name: ColumnName): ArrowVector => {
    const v = table.getChild(name) as ArrowVector | null;
    if (!v) throw new Error(`arrow table has no column ${name}`);
    return v;
  };
  for (const s of col('customer_id')) {
    acc.rows++;
    acc.addStr(acc.str.customer_id, s);
  }
  for (const s of col('top_category')) acc.addStr(acc.str.top_category, s);
  for (const s of col('segment')) acc.addSegment(s);
  for (const name of NUM_COLUMNS) {
    const a = acc.num[name];
    for (const d of col(name).data) {
      const vals = d.values;
      for (let i = 0; i < d.length; i++) if (isValid(d, i)) acc.addNum(a, vals[d.offset + i]);
    }
  }
  for (const d of col('last_order_ts').data) {
    const vals = d.values;
    if (!(vals instanceof BigInt64Array)) throw new Error('expected BigInt64Array values for timestamp[us]');
    for (let i = 0; i < d.length; i++) if (isValid(d, i)) acc.addTsMicros(vals[d.offset + i]);
  }
  for (const d of col('snapshot_date').data) {
    const vals = d.values;
    if (!(vals instanceof Int32Array)) throw new Error('expected Int32Array (epoch days) for date32');
    for (let i = 0; i < d.length; i++) if (isValid(d, i)) acc.addDateDays(vals[d.offset + i]);
  }
}

// ---------------------------------------------------------------------------------------------
// Child: one read
// ---------------------------------------------------------------------------------------------

function procStatusKiB(field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m && m[1] ? Number(m[1]) : NaN;
}
const MiB = 1024 * 1024;
const round1 = (x: number): number => Math.round(x * 10) / 10;

interface ChildResult {
  reader: string;
  rows: number;
  ms: number;
  /** user+system CPU time of the read (all threads of the process, so GC helper threads count too) */
  cpuMs: number;
  importMs: number;
  checksums: Checksums;
  lastOrderTsEpochMicrosSum: string | null;
  memory: {
    peakRssMiB: number; // VmHWM at the end of the child: peak resident set of the whole process
    rssBeforeReadMiB: number; // VmRSS after importing the library, before reading
    liveHeapUsedMiB: number; // JS heap in use while the decoded data was still reachable
    liveExternalMiB: number; // external + ArrayBuffers at that point
    heapTotalAtEndMiB: number; // V8 heap reserved at the end (V8 does not expose a heap high-water mark)
    wasmMemoryMiB?: number;
  };
  notes?: string[];
}

async function childRead(file: string, name: string): Promise<void> {
  const spec = READERS[name];
  if (!spec) throw new Error(`unknown reader ${name}; known: ${Object.keys(READERS).join(', ')}`);
  const gc = (globalThis as { gc?: () => void }).gc;
  const t0 = performance.now();
  const read = await spec.load();
  const importMs = performance.now() - t0;
  gc?.();
  const rssBefore = procStatusKiB('VmRSS');
  const cpu0 = process.cpuUsage();
  const t1 = performance.now();
  const r = await read(file);
  const { checksums, lastOrderTsEpochMicrosSum } = r.acc.result();
  const ms = performance.now() - t1;
  const cpu = process.cpuUsage(cpu0);
  const heapTotalAtEnd = process.memoryUsage().heapTotal;
  const out: ChildResult = {
    reader: name,
    rows: checksums.rows,
    ms: round1(ms),
    cpuMs: round1((cpu.user + cpu.system) / 1000),
    importMs: round1(importMs),
    checksums,
    lastOrderTsEpochMicrosSum,
    memory: {
      peakRssMiB: round1(procStatusKiB('VmHWM') / 1024),
      rssBeforeReadMiB: round1(rssBefore / 1024),
      liveHeapUsedMiB: round1(r.live.heapUsed / MiB),
      liveExternalMiB: round1((r.live.external + r.live.arrayBuffers) / MiB),
      heapTotalAtEndMiB: round1(heapTotalAtEnd / MiB),
      ...(r.wasmMemoryBytes !== undefined ? { wasmMemoryMiB: round1(r.wasmMemoryBytes / MiB) } : {}),
    },
    ...(r.notes ? { notes: r.notes } : {}),
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

// ---------------------------------------------------------------------------------------------
// Capabilities: footer-only reads through a byte-counting range source
// ---------------------------------------------------------------------------------------------

interface Capability {
  library: string;
  footerOnly: { ok: boolean; api: string; numRows?: number; columns?: number; bytesRead?: number; reads?: number; error?: string };
  asyncRangeSource: { ok: boolean; api: string; detail: string; error?: string };
}

/** Reads [offset, offset+length) of the file, counting calls and bytes. */
class CountingFile {
  reads = 0;
  bytes = 0;
  constructor(
    private readonly fh: fsp.FileHandle,
    readonly size: number,
  ) {}
  static async open(p: string): Promise<CountingFile> {
    const fh = await fsp.open(p, 'r');
    return new CountingFile(fh, (await fh.stat()).size);
  }
  async read(offset: number, length: number): Promise<Buffer> {
    const len = Math.max(0, Math.min(length, this.size - offset));
    const b = Buffer.alloc(len);
    if (len > 0) await this.fh.read(b, 0, len, offset);
    this.reads++;
    this.bytes += len;
    return b;
  }
  async close(): Promise<void> {
    await this.fh.close();
  }
}

const errText = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

async function capabilities(file: string): Promise<Capability[]> {
  const out: Capability[] = [];

  // parquetjs-lite: ParquetEnvelopeReader(readFn(offset, length) => Promise<Buffer>, closeFn, fileSize)
  {
    const pq = loadParquetjs();
    const cf = await CountingFile.open(file);
    const cap: Capability = {
      library: 'parquetjs-lite',
      footerOnly: { ok: false, api: 'ParquetReader.openEnvelopeReader(new ParquetEnvelopeReader(readFn, closeFn, size)) -> getRowCount(), getSchema()' },
      asyncRangeSource: {
        ok: false,
        api: 'new ParquetEnvelopeReader(readFn: (offset, length) => Promise<Buffer>, closeFn, fileSize); also ParquetReader.openS3(awsSdkV2Client, {Bucket, Key}) and openUrl(request, url)',
        detail: '',
      },
    };
    try {
      const env = new pq.ParquetEnvelopeReader((o, l) => cf.read(o, l), () => cf.close(), cf.size);
      const r = await pq.ParquetReader.openEnvelopeReader(env);
      cap.footerOnly = {
        ...cap.footerOnly,
        ok: true,
        numRows: Number(r.getRowCount()),
        columns: Object.keys(r.getSchema().fields).length,
        bytesRead: cf.bytes,
        reads: cf.reads,
      };
      // the same custom readFn drives a real data read: first row through the cursor
      const first = await r.getCursor(['customer_id']).next();
      cap.asyncRangeSource.ok = first !== null;
      cap.asyncRangeSource.detail = `custom readFn served footer + first column chunk: ${cf.reads} reads, ${cf.bytes} bytes; first customer_id=${String(first?.customer_id)}`;
      await r.close();
    } catch (e) {
      cap.footerOnly.error = errText(e);
      cap.asyncRangeSource.error = errText(e);
    }
    out.push(cap);
  }

  // hyparquet: AsyncBuffer { byteLength, slice(start, end) => Promise<ArrayBuffer> }
  {
    const { parquetMetadataAsync, parquetSchema, parquetReadObjects } = await import('hyparquet');
    const { compressors } = await import('hyparquet-compressors');
    const cf = await CountingFile.open(file);
    const asyncBuffer = {
      byteLength: cf.size,
      slice: async (start: number, end?: number): Promise<ArrayBuffer> => {
        const b = await cf.read(start, (end ?? cf.size) - start);
        return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
      },
    };
    const cap: Capability = {
      library: 'hyparquet',
      footerOnly: { ok: false, api: 'parquetMetadataAsync(asyncBuffer) -> num_rows, parquetSchema(metadata) (reads the last initialFetchSize=512 KiB by default)' },
      asyncRangeSource: {
        ok: false,
        api: 'AsyncBuffer { byteLength, slice(start, end) => Promise<ArrayBuffer> } passed as `file`; asyncBufferFromUrl / asyncBufferFromFile / cachedAsyncBuffer ship with it',
        detail: '',
      },
    };
    try {
      const md = await parquetMetadataAsync(asyncBuffer);
      cap.footerOnly = {
        ...cap.footerOnly,
        ok: true,
        numRows: Number(md.num_rows),
        columns: parquetSchema(md).children.length,
        bytesRead: cf.bytes,
        reads: cf.reads,
      };
      const rows = await parquetReadObjects({ file: asyncBuffer, metadata: md, columns: ['customer_id'], rowStart: 0, rowEnd: 1, compressors });
      cap.asyncRangeSource.ok = rows.length === 1;
      cap.asyncRangeSource.detail = `custom AsyncBuffer served footer + first row of customer_id: ${cf.reads} reads, ${cf.bytes} bytes; first customer_id=${String(rows[0]?.customer_id)}`;
    } catch (e) {
      cap.footerOnly.error = errText(e);
      cap.asyncRangeSource.error = errText(e);
    }
    await cf.close();
    out.push(cap);
  }

  // parquet-wasm: ParquetFile.fromFile(Blob) reads byte ranges through Blob.slice(); readSchema(bytes) needs bytes in memory
  {
    const pw = await import('parquet-wasm');
    const cf = await CountingFile.open(file);
    // A Blob-shaped object backed by positional reads. The generated glue calls only .size, .slice(start, end)
    // and .arrayBuffer() on it; this is not a documented extension point (the API is typed as a DOM Blob).
    const makeBlob = (start: number, end: number): unknown => ({
      size: end - start,
      slice: (s?: number, e?: number) => makeBlob(start + (s ?? 0), Math.min(end, start + (e ?? end - start))),
      arrayBuffer: async () => {
        const b = await cf.read(start, end - start);
        return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
      },
    });
    const cap: Capability = {
      library: 'parquet-wasm',
      footerOnly: { ok: false, api: 'ParquetFile.fromFile(blob).metadata().fileMetadata().numRows(), .schema()' },
      asyncRangeSource: {
        ok: false,
        api: 'ParquetFile.fromUrl(url) (HTTP Range GETs via fetch, e.g. a presigned S3 URL) or ParquetFile.fromFile(Blob) (Blob.slice); no callback-based source',
        detail: '',
      },
    };
    try {
      const pf = await pw.ParquetFile.fromFile(makeBlob(0, cf.size) as Blob);
      const fmd = pf.metadata().fileMetadata();
      const numRows = fmd.numRows();
      const schema = pf.schema();
      const arrow = await import('apache-arrow');
      const nCols = arrow.tableFromIPC(schema.intoIPCStream()).schema.fields.length;
      cap.footerOnly = { ...cap.footerOnly, ok: true, numRows, columns: nCols, bytesRead: cf.bytes, reads: cf.reads };
      const t = await pf.read({ columns: ['customer_id'], limit: 1 });
      const first = arrow.tableFromIPC(t.intoIPCStream()).getChild('customer_id')?.get(0) as unknown;
      cap.asyncRangeSource.ok = first !== undefined && first !== null;
      cap.asyncRangeSource.detail =
        `Blob-shaped object (.size/.slice/.arrayBuffer over positional reads) served footer + first row: ${cf.reads} reads, ${cf.bytes} bytes; ` +
        `first customer_id=${String(first)}. Duck-typed Blob works but is undocumented; the documented sources are a real Blob or a URL.`;
      pf.free();
    } catch (e) {
      cap.footerOnly.error = errText(e);
      cap.asyncRangeSource.error = errText(e);
    }
    // readSchema(bytes) over only the footer bytes (tail of the file) — checks it does not need the data pages
    try {
      const tail8 = await cf.read(cf.size - 8, 8);
      const footerLen = tail8.readUInt32LE(0);
      const tail = await cf.read(cf.size - 8 - footerLen, footerLen + 8);
      const s = pw.readSchema(tail);
      const arrow = await import('apache-arrow');
      const n = arrow.tableFromIPC(s.intoIPCStream()).schema.fields.length;
      cap.footerOnly.api += `; readSchema(footer bytes only: ${tail.length} B) -> ${n} fields (no row count from readSchema)`;
    } catch (e) {
      cap.footerOnly.api += `; readSchema(footer bytes only) failed: ${errText(e)}`;
    }
    await cf.close();
    out.push(cap);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------------------------

function resolveParquet(p: string): string {
  const st = fs.statSync(p);
  if (st.isFile()) return p;
  const parts = fs.readdirSync(p).filter((f) => f.startsWith('part-') && f.endsWith('.parquet'));
  if (parts.length !== 1) throw new Error(`expected exactly one part-*.parquet in ${p}, found ${parts.length}`);
  return path.join(p, parts[0]!);
}

interface RunOutcome {
  ok: boolean;
  wallMs: number;
  /** 1-minute load average just before and just after the child ran (other work on the machine shows here) */
  load?: [number, number];
  result?: ChildResult;
  error?: string;
}

const loadavg1 = (): number => Number(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

async function runChild(args: string[], timeoutS: number): Promise<RunOutcome> {
  const before = loadavg1();
  const o = await runChildRaw(args, timeoutS);
  return { ...o, load: [before, loadavg1()] };
}

function runChildRaw(args: string[], timeoutS: number): Promise<RunOutcome> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--expose-gc', SELF, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutS * 1000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => {
      clearTimeout(timer);
      const wallMs = performance.now() - t0;
      const line = stdout.trim().split('\n').pop() ?? '';
      if (timedOut) {
        resolve({ ok: false, wallMs, error: `did not finish within ${timeoutS} s (killed)` });
        return;
      }
      if (code !== 0) {
        resolve({ ok: false, wallMs, error: `exit ${code}: ${stderr.trim().split('\n').slice(-6).join(' | ')}` });
        return;
      }
      try {
        resolve({ ok: true, wallMs, result: JSON.parse(line) as ChildResult });
      } catch {
        resolve({ ok: false, wallMs, error: `unparsable output: ${line.slice(0, 300)} ${stderr.slice(-300)}` });
      }
    });
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const min = (xs: number[]): number => Math.min(...xs);
const max = (xs: number[]): number => Math.max(...xs);

function pkgVersion(pkg: string): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

function du(p: string): string {
  const r = spawnSync('du', ['-sh', p], { encoding: 'utf8' });
  return r.status === 0 ? (r.stdout.split('\t')[0] ?? '?') : '?';
}

/** du -sk of a package plus its production dependencies, resolved the way Node would (nested first). */
function installClosureKiB(pkg: string): { kib: number; packages: string[] } {
  const seen = new Set<string>();
  const visit = (name: string, fromDir: string): void => {
    let dir = fromDir;
    for (;;) {
      const candidate = path.join(dir, 'node_modules', name);
      if (fs.existsSync(path.join(candidate, 'package.json'))) {
        if (seen.has(candidate)) return;
        seen.add(candidate);
        const pj = JSON.parse(fs.readFileSync(path.join(candidate, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
        for (const d of Object.keys(pj.dependencies ?? {})) visit(d, candidate);
        return;
      }
      const up = path.dirname(dir);
      if (up === dir || !up.startsWith(REPO)) return;
      dir = up;
    }
  };
  visit(pkg, REPO);
  // nested node_modules are counted inside their parent's du: drop them to avoid double counting
  const dirs = [...seen].filter((d) => ![...seen].some((o) => o !== d && d.startsWith(o + path.sep)));
  const r = spawnSync('du', ['-sk', '-c', ...dirs], { encoding: 'utf8' });
  const total = r.stdout.trim().split('\n').pop()?.split('\t')[0];
  return { kib: Number(total), packages: [...seen].map((d) => path.relative(path.join(REPO, 'node_modules'), d)) };
}

function canon(c: Checksums): string {
  return JSON.stringify(c);
}

function describeDiff(a: Checksums, b: Checksums): string {
  const diffs: string[] = [];
  for (const k of Object.keys(a) as (keyof Checksums)[]) {
    if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) diffs.push(`${k}: ${JSON.stringify(a[k])} vs ${JSON.stringify(b[k])}`);
  }
  return diffs.join('; ');
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

async function driver(argv: string[]): Promise<number> {
  const target = argv[0];
  if (!target)
    throw new Error('usage: bench <file.parquet|spark-output-dir> [--reps N] [--slow-reps N] [--timeout-s S] [--readers a,b] [--out path]');
  let reps = 5;
  let slowReps = 1;
  let timeoutS = 1800;
  let readers = Object.keys(READERS);
  let outPath = path.join(REPO, 'bench', 'out', 'parquet-readers.json');
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--reps' && v) (reps = Number(v)), i++;
    else if (a === '--slow-reps' && v) (slowReps = Number(v)), i++;
    else if (a === '--timeout-s' && v) (timeoutS = Number(v)), i++;
    else if (a === '--readers' && v) (readers = v.split(',')), i++;
    else if (a === '--out' && v) (outPath = path.resolve(v)), i++;
    else throw new Error(`unknown argument ${a}`);
  }
  for (const r of readers) if (!READERS[r]) throw new Error(`unknown reader ${r}`);
  const file = resolveParquet(target);
  const fileBytes = fs.statSync(file).size;
  fs.readFileSync(file); // warm the page cache once so no reader pays the first cold read

  const cpuModel = os.cpus()[0]?.model ?? 'unknown';
  const machine = {
    nproc: Number(spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()),
    cpuModel,
    memTotalGiB: round1(os.totalmem() / 1024 ** 3),
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
  };
  console.log(`file: ${file} (${(fileBytes / MiB).toFixed(1)} MiB)`);
  console.log(`machine: nproc=${machine.nproc}, ${machine.memTotalGiB} GiB, ${cpuModel}, node ${machine.node}`);

  // footer / range capabilities (own child, so it does not pollute the measured runs)
  const capRun = await new Promise<string>((resolve, reject) => {
    const c = spawn(process.execPath, [SELF, 'caps', file], { stdio: ['ignore', 'pipe', 'inherit'] });
    let s = '';
    c.stdout.on('data', (d: Buffer) => (s += d.toString()));
    c.on('close', (code) => (code === 0 ? resolve(s) : reject(new Error(`caps exited ${code}`))));
  });
  const caps = JSON.parse(capRun.trim().split('\n').pop() ?? '[]') as Capability[];

  const runs: Record<string, RunOutcome[]> = Object.fromEntries(readers.map((r) => [r, []]));
  const failed = new Set<string>();
  // fast readers first, N repetitions in rotating order (no reader always runs first/last); slow readers after them
  const fast = readers.filter((r) => !READERS[r]!.slow);
  const slow = readers.filter((r) => READERS[r]!.slow);
  const schedule: [number, string][] = [];
  for (let rep = 0; rep < reps; rep++) for (let i = 0; i < fast.length; i++) schedule.push([rep, fast[(i + rep) % fast.length]!]);
  for (let rep = 0; rep < Math.min(reps, slowReps); rep++) for (const r of slow) schedule.push([rep, r]);
  for (const [rep, r] of schedule) {
    if (failed.has(r)) continue;
    const o = await runChild(['read', file, r], timeoutS);
    runs[r]!.push(o);
    if (!o.ok) failed.add(r);
    process.stderr.write(
      `rep ${rep + 1}/${reps} ${pad(r, 26)} ` +
        (o.ok && o.result ? `read ${o.result.ms.toFixed(0)} ms, cpu ${o.result.cpuMs.toFixed(0)} ms, wall ${o.wallMs.toFixed(0)} ms, peak RSS ${o.result.memory.peakRssMiB} MiB` : `FAILED ${o.error}`) +
        `, load ${o.load?.join('->')}\n`,
    );
  }

  // reference checksums written by make_parquet_fixture.py (pyarrow, sequential sums), if present
  const refPath = path.join(path.dirname(file), '_bench_checksums.json');
  const reference = fs.existsSync(refPath)
    ? (JSON.parse(fs.readFileSync(refPath, 'utf8')) as { checksums: Checksums; lastOrderTsEpochMicrosSum: string })
    : undefined;

  // summaries
  interface Summary {
    reader: string;
    library: string;
    primary: string;
    describe: string;
    ok: boolean;
    error?: string;
    reps: number;
    readMs?: { median: number; min: number; all: number[] };
    cpuMs?: { median: number; min: number; all: number[] };
    wallMs?: { median: number; min: number; all: number[] };
    importMs?: { median: number };
    peakRssMiB?: { median: number; max: number; all: number[] };
    rssBeforeReadMiB?: number;
    liveHeapUsedMiB?: number;
    liveExternalMiB?: number;
    wasmMemoryMiB?: number;
    checksums?: Checksums;
    lastOrderTsEpochMicrosSum?: string | null;
    deterministic?: boolean;
    notes?: string[];
    loadAvg1?: { min: number; max: number };
  }
  const summaries: Summary[] = readers.map((r) => {
    const spec = READERS[r]!;
    const os_ = runs[r]!;
    const good = os_.filter((o) => o.ok && o.result).map((o) => ({ wall: o.wallMs, res: o.result! }));
    const base: Summary = { reader: r, library: spec.lib, primary: PRIMARY[r] ?? '', describe: spec.describe, ok: good.length === os_.length && good.length > 0, reps: good.length };
    const bad = os_.find((o) => !o.ok);
    if (bad) base.error = bad.error ?? 'failed';
    if (good.length === 0) return base;
    const first = good[0]!.res;
    return {
      ...base,
      readMs: { median: round1(median(good.map((g) => g.res.ms))), min: round1(min(good.map((g) => g.res.ms))), all: good.map((g) => g.res.ms) },
      cpuMs: { median: round1(median(good.map((g) => g.res.cpuMs))), min: round1(min(good.map((g) => g.res.cpuMs))), all: good.map((g) => g.res.cpuMs) },
      wallMs: { median: round1(median(good.map((g) => g.wall))), min: round1(min(good.map((g) => g.wall))), all: good.map((g) => round1(g.wall)) },
      importMs: { median: round1(median(good.map((g) => g.res.importMs))) },
      peakRssMiB: {
        median: round1(median(good.map((g) => g.res.memory.peakRssMiB))),
        max: max(good.map((g) => g.res.memory.peakRssMiB)),
        all: good.map((g) => g.res.memory.peakRssMiB),
      },
      rssBeforeReadMiB: round1(median(good.map((g) => g.res.memory.rssBeforeReadMiB))),
      liveHeapUsedMiB: round1(median(good.map((g) => g.res.memory.liveHeapUsedMiB))),
      liveExternalMiB: round1(median(good.map((g) => g.res.memory.liveExternalMiB))),
      ...(first.memory.wasmMemoryMiB !== undefined ? { wasmMemoryMiB: round1(median(good.map((g) => g.res.memory.wasmMemoryMiB ?? 0))) } : {}),
      checksums: first.checksums,
      lastOrderTsEpochMicrosSum: first.lastOrderTsEpochMicrosSum,
      deterministic: good.every((g) => canon(g.res.checksums) === canon(first.checksums)),
      loadAvg1: { min: min(os_.flatMap((o) => o.load ?? [])), max: max(os_.flatMap((o) => o.load ?? [])) },
      ...(first.notes ? { notes: first.notes } : {}),
    };
  });

  // agreement
  const okS = summaries.filter((s) => s.checksums);
  const problems: string[] = [];
  const baseline = okS[0];
  for (const s of okS) {
    if (!s.deterministic) problems.push(`${s.reader}: checksums differ between repetitions`);
    if (baseline && s !== baseline && canon(s.checksums!) !== canon(baseline.checksums!))
      problems.push(`${s.reader} vs ${baseline.reader}: ${describeDiff(s.checksums!, baseline.checksums!)}`);
    if (reference && canon(s.checksums!) !== canon(reference.checksums))
      problems.push(`${s.reader} vs pyarrow reference: ${describeDiff(s.checksums!, reference.checksums)}`);
    if (reference && s.lastOrderTsEpochMicrosSum !== null && s.lastOrderTsEpochMicrosSum !== reference.lastOrderTsEpochMicrosSum)
      problems.push(`${s.reader}: last_order_ts micros sum ${s.lastOrderTsEpochMicrosSum} vs reference ${reference.lastOrderTsEpochMicrosSum}`);
  }
  const failures = summaries.filter((s) => !s.ok).map((s) => `${s.reader}: ${s.error}`);
  const agree = problems.length === 0;

  // table: ratios against the fastest reader (lowest median read time)
  const timed = summaries.filter((s) => s.readMs && s.peakRssMiB);
  const fastest = [...timed].sort((a, b) => a.readMs!.median - b.readMs!.median)[0];
  const lines: string[] = [];
  const header =
    `| reader | runs | read ms median | read ms min | × fastest | read CPU ms median | × fastest | process wall ms median | × fastest | peak RSS MiB (VmHWM) | × fastest | RSS before read MiB | live JS heap MiB | live external+ArrayBuffer MiB |`;
  lines.push(header, '|' + header.slice(1, -1).split('|').map(() => '---').join('|') + '|');
  for (const s of timed) {
    const f = fastest!;
    const label = s.primary ? `${s.primary} ${s.reader}` : s.reader;
    lines.push(
      `| ${label} | ${s.reps} | ${s.readMs!.median.toFixed(0)} | ${s.readMs!.min.toFixed(0)} | ${(s.readMs!.median / f.readMs!.median).toFixed(2)} | ` +
        `${s.cpuMs!.median.toFixed(0)} | ${(s.cpuMs!.median / f.cpuMs!.median).toFixed(2)} | ` +
        `${s.wallMs!.median.toFixed(0)} | ${(s.wallMs!.median / f.wallMs!.median).toFixed(2)} | ` +
        `${s.peakRssMiB!.median.toFixed(0)} | ${(s.peakRssMiB!.median / f.peakRssMiB!.median).toFixed(2)} | ` +
        `${s.rssBeforeReadMiB!.toFixed(0)} | ${s.liveHeapUsedMiB!.toFixed(0)} | ${s.liveExternalMiB!.toFixed(0)}${s.wasmMemoryMiB !== undefined ? ` (+ wasm memory ${s.wasmMemoryMiB.toFixed(0)})` : ''} |`,
    );
  }
  for (const f of failures) lines.push(`| FAILED ${f.replace(/\|/g, '/')} |`);
  const table = lines.join('\n');

  const libraries = ['parquetjs-lite', 'hyparquet', 'hyparquet-compressors', 'parquet-wasm', 'apache-arrow'].map((p) => {
    const c = installClosureKiB(p);
    return { package: p, version: pkgVersion(p), duSh: du(path.join(REPO, 'node_modules', p)), withDepsMiB: round1(c.kib / 1024), withDeps: c.packages };
  });

  const report = {
    generatedAt: new Date().toISOString(),
    file: { path: file, bytes: fileBytes },
    machine,
    loadAvg1DuringRun: {
      min: min(Object.values(runs).flat().flatMap((o) => o.load ?? [])),
      max: max(Object.values(runs).flat().flatMap((o) => o.load ?? [])),
    },
    reps,
    slowReps,
    slowReaders: readers.filter((r) => READERS[r]!.slow),
    timeoutS,
    fastest: fastest?.reader,
    agree,
    problems,
    failures,
    reference: reference ? { path: refPath, ...reference } : null,
    summaries,
    capabilities: caps,
    libraries,
    table,
  };
  fs.mkdirSync(path.dirname(outPath), { recursive: true });
  fs.writeFileSync(outPath, JSON.stringify(report, null, 2) + '\n');

  console.log(
    `\n${reps} repetitions per reader (${slowReps} for the slow ${readers.filter((r) => READERS[r]!.slow).join(', ') || 'none'}), ` +
      `each in its own \`node --expose-gc\` process; ratios are against the fastest reader by median read time (${fastest?.reader}).\n`,
  );
  console.log(table);
  console.log('\nchecksums (first run of each reader):');
  for (const s of okS) console.log(`  ${pad(s.reader, 26)} ${JSON.stringify(s.checksums)} micros=${s.lastOrderTsEpochMicrosSum}`);
  if (reference) console.log(`  ${pad('pyarrow reference', 26)} ${JSON.stringify(reference.checksums)} micros=${reference.lastOrderTsEpochMicrosSum}`);
  console.log(agree ? `checksums: ALL AGREE (${okS.length} readers${reference ? ' + pyarrow reference' : ''}; every repetition identical)` : `checksums: MISMATCH\n  ${problems.join('\n  ')}`);
  for (const s of okS) for (const n of s.notes ?? []) console.log(`note ${s.reader}: ${n}`);
  console.log(`1-minute load average around the runs: ${report.loadAvg1DuringRun.min} .. ${report.loadAvg1DuringRun.max} (nproc ${machine.nproc})`);
  console.log('\nfooter-only / async range source:');
  for (const c of caps) {
    const f = c.footerOnly;
    console.log(
      `  ${pad(c.library, 15)} footer: ${f.ok ? `yes (${f.numRows} rows, ${f.columns} columns, ${f.reads} reads, ${f.bytesRead} of ${fileBytes} bytes)` : `NO: ${f.error}`} via ${f.api}`,
    );
    console.log(`  ${pad('', 15)} range : ${c.asyncRangeSource.ok ? 'yes' : `NO${c.asyncRangeSource.error ? `: ${c.asyncRangeSource.error}` : ''}`} via ${c.asyncRangeSource.api}; ${c.asyncRangeSource.detail}`);
  }
  console.log('\ninstall size:');
  for (const l of libraries) console.log(`  ${pad(l.package, 22)} ${l.version.padEnd(8)} du -sh ${l.duSh.padEnd(6)} with deps ${l.withDepsMiB} MiB (${l.withDeps.join(', ')})`);
  console.log(`\nwrote ${outPath}`);
  return agree && failures.length === 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------

const SELF = fileURLToPath(import.meta.url);
const REPO = path.resolve(path.dirname(SELF), '..', '..'); // dist/bench/parquet-readers.js -> repo root

async function main(): Promise<number> {
  const [mode, ...rest] = process.argv.slice(2);
  switch (mode) {
    case 'read': {
      const [target, reader] = rest;
      if (!target || !reader) throw new Error(`usage: read <file|dir> <${Object.keys(READERS).join('|')}>`);
      await childRead(resolveParquet(target), reader);
      return 0;
    }
    case 'caps': {
      if (!rest[0]) throw new Error('usage: caps <file|dir>');
      process.stdout.write(JSON.stringify(await capabilities(resolveParquet(rest[0]))) + '\n');
      return 0;
    }
    case 'bench':
      return driver(rest);
    default:
      console.error(
        'usage:\n  node --expose-gc dist/bench/parquet-readers.js read <file|dir> <reader>\n' +
          '  node dist/bench/parquet-readers.js caps <file|dir>\n' +
          '  node dist/bench/parquet-readers.js bench <file|dir> [--reps 5] [--slow-reps 1] [--timeout-s 1800] [--readers a,b] [--out path]\n' +
          `readers: ${Object.keys(READERS).join(', ')}`,
      );
      return 2;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exitCode = 1;
  },
);
