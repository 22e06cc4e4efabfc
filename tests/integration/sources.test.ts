/**
 * A team's own files through a source definition: mistakes found before Spark (exit 3 or 4, no
 * Spark started), a definition that does not fit its data (every problem from one `sources check`
 * on a sample), and a full ingest of CSV files shaped unlike the canonical tables (semicolons,
 * decimal commas, day-first dates in Berlin time, malformed lines), whose inputs stay unchanged;
 * and catalog tables read through a local Hive metastore.
 */
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cli, cliJson, manifestOf, python, readOutput, repo, root, type CliResult } from "./helpers.js";

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");
const scrub = (text: string, dir: string) => text.split(dir).join("<tmp>").trim();

// A shop's export: semicolons, decimal commas, day-first local times, a quoted name with a
// semicolon in it, and two malformed lines (a field short, a field too many).
const ORDERS = `Bestellung;Kunde;Datum;Artikel;Menge;Preis;Status
B-1;K1;02.01.2024 10:00;A-100;2;9,50;bezahlt
B-1;K1;02.01.2024 10:00;A-200;1;3,00;bezahlt
B-2;K2;15.06.2024 18:30;A-100;1;9,50;storniert
B-3;K3;16.06.2024 09:15;A-300;3
B-4;K1;17.06.2024 11:00;A-200;1;3,00;bezahlt;extra
B-5;;18.06.2024 12:00;A-300;1;4,25;bezahlt
B-6;K4;19.06.2024 13:00;"A-400;B";1;12,00;bezahlt
B-7;K4;20.06.2024 14:00;A-100;zwei;9,50;bezahlt
`;
const CUSTOMERS = `kunde,seit,geschlecht,jahrgang
K1,2019-03-01,w,1980
K2,2020-07-15,m,1975
K3,2021-01-10,d,2001
K4,2022-11-30,w,
`;

const definition = (tables: string) => `name: test-shop
timezone: Europe/Berlin
currency: EUR
tables:
${tables}
`;
const TRANSACTIONS = `  transactions:
    path: orders.csv
    format: csv
    csv: { delimiter: ";" }
    columns:
      order_id: Bestellung
      customer_id: Kunde
      order_ts: to_timestamp(Datum, 'dd.MM.yyyy HH:mm')
      product_id: Artikel
      quantity: Menge
      unit_price: CAST(replace(Preis, ',', '.') AS DOUBLE)
      status: "CASE Status WHEN 'bezahlt' THEN 'completed' WHEN 'storniert' THEN 'cancelled' END"
`;
const CUSTOMERS_TABLE = `  customers:
    path: customers*.csv
    format: csv
    columns:
      customer_id: kunde
      signup_date: seit
      gender: "CASE geschlecht WHEN 'w' THEN 'female' WHEN 'm' THEN 'male' WHEN 'd' THEN 'other' END"
      age: 2024 - CAST(jahrgang AS INT)
`;
const ABSENT = ["products", "events", "campaigns"].map((t) => `  ${t}: { absent: true }`).join("\n");

describe("source definitions: mistakes found before Spark starts", () => {
  let dir: string;
  const check = (name: string, text: string): CliResult => {
    writeFileSync(join(dir, name), text);
    return cli(["sources", "check", join(dir, name)], { root: join(dir, "root") });
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "sparkjobs-sources-"));
    writeFileSync(join(dir, "orders.csv"), ORDERS);
  });

  it("an unknown format (exit 3)", () => {
    const r = check("format.yaml", definition(TRANSACTIONS.replace("format: csv", "format: xlsx") + ABSENT + "\n  customers: { absent: true }"));
    expect(r.code).toBe(3);
    expect(scrub(r.stderr, dir)).toMatchInlineSnapshot(`
      "error: source definition <tmp>/format.yaml is not valid (1 problem)
        - <tmp>/format.yaml:7: tables.transactions.format: Invalid option: expected one of "parquet"|"csv"|"json"|"orc"|"delta"|"iceberg"
        fix: correct the fields listed above; the reference is schemas/json/source-definition.schema.json and the README's "Your own data""
    `);
  });

  it("a column the canonical table does not have, and a table left out (exit 3)", () => {
    const r = check("columns.yaml", definition(TRANSACTIONS.replace("quantity: Menge", "qty: Menge") + "  products: { absent: true }\n  events: { absent: true }\n  campaigns: { absent: true }"));
    expect(r.code).toBe(3);
    expect(scrub(r.stderr, dir)).toMatchInlineSnapshot(`
      "error: source definition <tmp>/columns.yaml is not valid (2 problems)
        - <tmp>/columns.yaml:4: tables.customers: is missing: map it (path or table, format, columns) or declare it absent with customers: { absent: true }
        - <tmp>/columns.yaml:14: tables.transactions.columns.qty: "qty" is not a column of the canonical table transactions (its columns: order_id, line_no, customer_id, order_ts, product_id, category, quantity, unit_price, payment_method, region, status)
        fix: correct the fields listed above; the reference is schemas/json/source-definition.schema.json and the README's "Your own data""
    `);
  });

  it("a path and a glob that match no file (exit 4)", () => {
    const r = check("paths.yaml", definition(TRANSACTIONS.replace("path: orders.csv", "path: order.csv") + CUSTOMERS_TABLE.replace("customers*.csv", "kunden-*.csv") + ABSENT));
    expect(r.code).toBe(4);
    expect(scrub(r.stderr, dir)).toMatchInlineSnapshot(`
      "error: source definition <tmp>/paths.yaml names files that are not there
        - <tmp>/paths.yaml: tables.transactions.path: <tmp>/order.csv does not exist
        - <tmp>/paths.yaml: tables.customers.path: <tmp>/kunden-*.csv matches no file
        fix: fix the path (a relative path is relative to the source definition's folder; globs use * ? [abc] {a,b}), or declare the table absent"
    `);
    expect(readdirSync(dir)).not.toContain("root");
  });
});

describe("sources check: a definition that does not fit its data, every problem from one look at a sample", () => {
  let dir: string;
  let r: CliResult;
  const problem = (path: string) => r.stderr.split("\n").find((l) => l.includes(`: ${path}: `)) ?? `(no line for ${path})`;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "sparkjobs-sources-"));
    writeFileSync(join(dir, "orders.csv"), ORDERS);
    writeFileSync(join(dir, "customers.csv"), CUSTOMERS);
    const bad = definition(
      TRANSACTIONS.replace("customer_id: Kunde", "customer_id: Kundennummer") +
        CUSTOMERS_TABLE.replace("signup_date: seit", "signup_date: to_date(seit, 'dd.MM.yyyy')") +
        `  events:
    path: orders.csv
    format: csv
    csv: { delimiter: ";" }
    columns:
      session_id: Bestellung
      event_ts: to_timestamp(Datum,
      event_type: "'view'"
  campaigns:
    table: marketing.exposures
  products: { absent: true }`,
    );
    writeFileSync(join(dir, "bad.yaml"), bad);
    r = cli(["sources", "check", join(dir, "bad.yaml")], { root: join(dir, "root") });
  });

  it("exits 4 and lists four problems with the file, the entry and the fix", () => {
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`error: source definition ${join(dir, "bad.yaml")} does not fit its data (4 problems, found on a sample of 1000 rows per table)`);
    expect(r.stderr).toContain("fix: correct the expressions listed above");
  });

  it("a missing column, with the columns that are there", () => {
    expect(problem("tables.transactions.columns.customer_id")).toContain("'Kundennummer' reads a column the source does not have: Kundennummer (the source's columns: Bestellung, Kunde, Datum, Artikel, Menge, Preis, Status)");
  });

  it("an expression that does not compile", () => {
    expect(problem("tables.events.columns.event_ts")).toContain("'to_timestamp(Datum,' does not compile: ParseException");
  });

  it("a cast that fails for every row", () => {
    expect(problem("tables.customers.columns.signup_date")).toContain("\"to_date(seit, 'dd.MM.yyyy')\" gives no signup_date on any of the 4 sampled rows, though seit has values there: the cast or the parse fails for every row");
  });

  it("a catalog table that does not exist", () => {
    expect(problem("tables.campaigns")).toContain("the catalog table marketing.exposures does not exist");
    expect(problem("tables.campaigns")).toContain("fix: check the name (db.table)");
  });

  it("nothing is left behind under the root, nor in the working directory (Spark's catalog makes a warehouse folder)", () => {
    expect(readdirSync(dir).sort()).toEqual(["bad.yaml", "customers.csv", "orders.csv"]);
    expect(existsSync(join(repo, "spark-warehouse"))).toBe(false);
  });
});

describe("ingest of CSV files shaped unlike the canonical tables", () => {
  let dir: string;
  let run: any;
  let manifest: any;
  let checksums: Record<string, string>;
  const RUN_ID = "it-sources-csv-ingest";

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "sparkjobs-sources-"));
    writeFileSync(join(dir, "orders.csv"), ORDERS);
    writeFileSync(join(dir, "customers-2024.csv"), CUSTOMERS);
    writeFileSync(join(dir, "shop.yaml"), definition(TRANSACTIONS + CUSTOMERS_TABLE + ABSENT));
    checksums = Object.fromEntries(readdirSync(dir).map((f) => [f, sha256(join(dir, f))]));
    const out = cliJson(["run", "ingest", "--param", `sources=${join(dir, "shop.yaml")}`, "--param", "max_rejected_share=0.5", "--run-id", RUN_ID]);
    expect(out.result.code, out.result.stderr.slice(-3000)).toBe(0);
    run = out.json;
  });

  it("malformed lines land in quarantine with their text, file and line number; the run goes on and the counts say how many", async () => {
    manifest = await manifestOf(root(), RUN_ID);
    const quarantine = await readOutput(manifest.outputs.quarantine);
    const malformed = quarantine.filter((q) => q.rule === "malformed");
    expect(malformed.map((q) => q.line).sort()).toEqual(["B-3;K3;16.06.2024 09:15;A-300;3", "B-4;K1;17.06.2024 11:00;A-200;1;3,00;bezahlt;extra"]);
    // Each with its line in the file (the header is line 1), as an editor shows it.
    const lines = ORDERS.split("\n");
    for (const q of malformed) expect(lines[Number(q.line_number) - 1]).toBe(q.line);
    expect(malformed.map((q) => Number(q.line_number)).sort()).toEqual([5, 6]);
    expect(malformed.every((q) => String(q.source_file).endsWith("orders.csv"))).toBe(true);
    const failed = quarantine.filter((q) => q.rule !== "malformed").map((q) => [q.rule, q.column, q.value]);
    expect(failed).toEqual([["cast_failed", "quantity", "zwei"]]);
    const t = run.metrics.ingest.tables.transactions;
    expect(t).toMatchObject({ read: 8, filtered: 0, accepted: 5, rejected: 3 });
    expect(t.rules).toEqual([{ rule: "malformed", column: null, rows: 2 }, { rule: "cast_failed", column: "quantity", rows: 1 }]);
    expect(run.outputs.quarantine.rows).toBe(3);
  });

  it("the accepted rows carry the mapped values: Berlin times as UTC instants, decimal commas, quoted delimiters, generated line numbers", async () => {
    const rows = await readOutput(manifest.outputs.transactions);
    const byKey = new Map(rows.map((r) => [`${r.order_id}/${r.line_no}`, r]));
    expect([...byKey.keys()].sort()).toEqual(["B-1/1", "B-1/2", "B-2/1", "B-5/1", "B-6/1"]);
    expect((byKey.get("B-1/1")!.order_ts as Date).toISOString()).toBe("2024-01-02T09:00:00.000Z"); // CET, UTC+1
    expect((byKey.get("B-2/1")!.order_ts as Date).toISOString()).toBe("2024-06-15T16:30:00.000Z"); // CEST, UTC+2
    expect(byKey.get("B-1/1")!.unit_price).toBe(9.5);
    expect(byKey.get("B-2/1")!.status).toBe("cancelled");
    expect(byKey.get("B-5/1")!.customer_id).toBeNull();
    expect(byKey.get("B-6/1")!.product_id).toBe("A-400;B");
    expect([byKey.get("B-1/1")!.product_id, byKey.get("B-1/2")!.product_id]).toEqual(["A-100", "A-200"]);
    const customers = await readOutput(manifest.outputs.customers);
    expect(customers.map((c) => [c.customer_id, c.gender, c.age]).sort()).toEqual([["K1", "female", 44], ["K2", "male", 49], ["K3", "other", 23], ["K4", "female", null]]);
    expect(run.metrics.ingest).toMatchObject({ source: "test-shop", currency: "EUR", absent: ["products", "events", "campaigns"] });
    expect(run.metrics.ingest.tables.transactions).toMatchObject({ firstDay: "2024-01-02", lastDay: "2024-06-19", asOf: "2024-06-20" });
  });

  it("a job that needs a table the source declares absent says which, before Spark starts", () => {
    const r = cli(["plan", "kpis", "--param", `source=${RUN_ID}`, "--param", `segments=${RUN_ID}`]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`inputs.campaigns: run ${RUN_ID} has no output campaigns: its source definition ${join(dir, "shop.yaml")} declares the table campaigns absent, and job kpis needs it (map it under tables.campaigns to run kpis)`);
  });

  it("a snapshot date before the data is an error; one after it a warning", () => {
    const before = cli(["plan", "customer-segmentation", "--param", `source=${RUN_ID}`, "--param", "snapshot_date=2023-12-31"]);
    expect(before.code).toBe(2);
    expect(before.stderr).toContain(`--param snapshot_date=2023-12-31 is before the data of run ${RUN_ID}, which starts on 2024-01-02`);
    const after = cli(["plan", "customer-segmentation", "--param", `source=${RUN_ID}`, "--param", "snapshot_date=2025-06-20"]);
    expect(after.code).toBe(0);
    expect(after.stderr).toContain(`warning: --param snapshot_date=2025-06-20 is 365 days after the data of run ${RUN_ID} ends (its as-of date is 2024-06-20)`);
    const plan = JSON.parse(cli(["plan", "customer-segmentation", "--param", `source=${RUN_ID}`]).stdout);
    expect(plan.params.snapshot_date).toEqual({ type: "date", value: "2024-06-20" });
    expect(plan.emptyInputs).toEqual([{ name: "events", table: "events" }]);
  });

  it("the source files are unchanged (sha256 before and after)", () => {
    expect(Object.fromEntries(readdirSync(dir).map((f) => [f, sha256(join(dir, f))]))).toEqual(checksums);
  });
});

describe("catalog tables in a Hive metastore (a local one: embedded Derby, a warehouse folder)", () => {
  let dir: string;
  let conf: string[];
  let made: { orders: number; members: number };
  let run: any;
  const RUN_ID = "it-sources-hive-ingest";
  const catalog = (orders: string) => `name: shop-catalog
timezone: Europe/Paris
currency: EUR
tables:
  transactions:
    table: ${orders}
    columns:
      order_id: invoice
      customer_id: CAST(member_no AS STRING)
      order_ts: invoiced_at
      product_id: sku
      quantity: qty
      unit_price: price
      status: "'completed'"
  customers:
    table: shop.members
    columns:
      customer_id: CAST(member_no AS STRING)
      signup_date: joined
      region: city
  products: { absent: true }
  events: { absent: true }
  campaigns: { absent: true }
`;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "sparkjobs-hive-"));
    // The tables are made by Spark's own Hive catalog, in another process; Derby's log stays in the folder.
    made = JSON.parse(execFileSync(python(), [join(import.meta.dirname, "make_hive_tables.py"), dir], { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim().split("\n").pop()!);
    conf = [
      "spark.sql.catalogImplementation=hive",
      `spark.sql.warehouse.dir=${dir}/warehouse`,
      `spark.hadoop.javax.jdo.option.ConnectionURL=jdbc:derby:;databaseName=${dir}/metastore_db;create=true`,
      `spark.driver.extraJavaOptions=-Dderby.system.home=${dir} -Dlog4j2.level=warn`,
    ].flatMap((c) => ["--conf", c]);
    writeFileSync(join(dir, "catalog.yaml"), catalog("shop.orders"));
    writeFileSync(join(dir, "typo.yaml"), catalog("shop.order"));
    const out = cliJson(["run", "ingest", "--param", `sources=${join(dir, "catalog.yaml")}`, ...conf, "--run-id", RUN_ID]);
    expect(out.result.code, out.result.stderr.slice(-3000)).toBe(0);
    run = out.json;
  });

  it("ingest reads both tables through the catalog and maps every row", async () => {
    expect(made).toMatchObject({ orders: 5, members: 3 });
    expect(run.metrics.ingest.tables.transactions).toMatchObject({ read: made.orders, accepted: made.orders, rejected: 0, firstDay: "2024-03-01", lastDay: "2024-03-10" });
    expect(run.metrics.ingest.tables.customers).toMatchObject({ read: made.members, accepted: made.members, rejected: 0 });
    const manifest = await manifestOf(root(), RUN_ID);
    const lines = (await readOutput(manifest.outputs.transactions)).map((r) => `${r.order_id}/${r.line_no} ${r.customer_id} ${r.product_id} ${r.quantity}x${r.unit_price}`).sort();
    expect(lines).toEqual(["INV-1/1 101 SKU-A 2x4.5", "INV-1/2 101 SKU-B 1x12", "INV-2/1 102 SKU-A 1x4.5", "INV-3/1 101 SKU-C 3x2.25", "INV-4/1 103 SKU-B 2x12"]);
    const customers = (await readOutput(manifest.outputs.customers)).map((c) => `${c.customer_id} ${c.region}`).sort();
    expect(customers).toEqual(["101 Lyon", "102 Paris", "103 Nice"]);
  });

  it("sources check with the catalog's settings: a table the metastore does not have is named, the one it has passes", () => {
    const r = cli(["sources", "check", join(dir, "typo.yaml"), ...conf]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`error: source definition ${join(dir, "typo.yaml")} does not fit its data (1 problem`);
    expect(r.stderr).toContain("tables.transactions: the catalog table shop.order does not exist");
  });

  it("nothing lands outside the folders it was given: no Derby log or metastore in the working directory", () => {
    expect(existsSync(join(repo, "derby.log"))).toBe(false);
    expect(existsSync(join(repo, "metastore_db"))).toBe(false);
    expect(existsSync(join(repo, "spark-warehouse"))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(["catalog.yaml", "derby.log", "metastore_db", "typo.yaml", "warehouse"]);
  });
});
