/**
 * Source definitions checked without Spark: every problem at once with file, line, path and fix,
 * and the Hadoop globs that paths may use.
 */
import { describe, expect, it } from "vitest";
import { SparkjobsError } from "../../submitter/src/errors.js";
import { checkSourceDefinition } from "../../submitter/src/sources/check.js";
import { globSegment } from "../../submitter/src/sources/resolve.js";

const problemsOf = (text: string) => {
  try {
    checkSourceDefinition("shop.yaml", text);
  } catch (e) {
    if (e instanceof SparkjobsError) return { kind: e.kind, lines: e.problems.map((p) => `${p.line ?? "-"}: ${p.path}: ${p.message}`) };
    throw e;
  }
  return { kind: "ok", lines: [] as string[] };
};

const GOOD = `name: shop
timezone: Europe/Paris
currency: EUR
tables:
  transactions:
    path: orders.csv
    format: csv
    columns: { order_id: id, order_ts: ts, quantity: qty, unit_price: price, status: "'completed'" }
  customers:
    path: customers.parquet
    columns: { customer_id: id }
    features:
      numeric: { visits: visits }
      categorical: { tier: tier }
  products: { absent: true }
  events: { absent: true }
  campaigns: { absent: true }
`;

describe("checkSourceDefinition", () => {
  it("accepts a definition with mapped, absent and featured tables", () => {
    const def = checkSourceDefinition("shop.yaml", GOOD);
    expect(def.tables.customers).toMatchObject({ features: { numeric: { visits: "visits" }, categorical: { tier: "tier" } } });
    expect(def.tables.transactions).toMatchObject({ format: "csv", nullValues: [] });
  });

  it("reports every problem at once: a bad time zone, both path and table, csv options on Parquet, a features on the wrong table, a feature named like a column", () => {
    const text = GOOD.replace("timezone: Europe/Paris", "timezone: Europe/Pariss")
      .replace("    path: customers.parquet\n", "    path: customers.parquet\n    table: crm.customers\n    csv: { delimiter: ';' }\n")
      .replace("categorical: { tier: tier }", "categorical: { tier: tier, region: reg }")
      .replace("  products: { absent: true }", "  products:\n    path: p.parquet\n    features: { numeric: { x: x } }");
    const r = problemsOf(text);
    expect(r.kind).toBe("definition");
    expect(r.lines).toEqual([
      '2: timezone: "Europe/Pariss" is not a time zone; use a name such as UTC, Europe/London or America/New_York',
      "19: tables.products.features: features are customer attributes: declare them under tables.customers",
      "11: tables.customers.table: give either path or table, not both",
      "12: tables.customers.csv: csv options need format: csv (format is parquet)",
      '16: tables.customers.features.categorical.region: "region" is a column of the canonical table customers: map it under columns, or give the feature another name',
    ]);
  });

  it("a table left out, an unknown format and an unknown table are named, the rest still checked", () => {
    const text = GOOD.replace("  campaigns: { absent: true }\n", "  campaign: { absent: true }\n").replace("format: csv", "format: xls").replace("quantity: qty", "qty: qty");
    const r = problemsOf(text);
    expect(r.lines).toContain("4: tables.campaigns: is missing: map it (path or table, format, columns) or declare it absent with campaigns: { absent: true }");
    expect(r.lines.some((l) => l.includes("tables.transactions.format") && l.includes('"parquet"|"csv"'))).toBe(true);
    expect(r.lines.some((l) => l.includes("tables.campaign") && l.includes('unknown key "campaign"'))).toBe(true);
  });

  it("a definition where every table is absent", () => {
    const text = GOOD.replace(/ {2}transactions:[\s\S]*? {2}products/, "  transactions: { absent: true }\n  customers: { absent: true }\n  products");
    expect(problemsOf(text).lines).toEqual(["4: tables: every table is declared absent: map at least one (transactions, for most jobs)"]);
  });
});

describe("globSegment (Hadoop globs: * ? [abc] {a,b})", () => {
  it.each([
    ["orders-*.csv", "orders-2024-01.csv", true],
    ["orders-*.csv", "orders-2024-01.csv.gz", false],
    ["part-?.parquet", "part-1.parquet", true],
    ["part-[0-4].parquet", "part-7.parquet", false],
    ["{orders,returns}.csv", "returns.csv", true],
    ["a.b", "axb", false],
  ])("%s against %s: %s", (glob, name, matches) => {
    expect(globSegment(glob).test(name)).toBe(matches);
  });
});
