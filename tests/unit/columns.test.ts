import { describe, expect, it } from "vitest";
import { tableJsonSchema } from "../../schemas/src/export.js";
import { tables } from "../../schemas/src/index.js";
import { needsOf, valueProblem } from "../../submitter/src/results/column-scan.js";
import { columnRules } from "../../submitter/src/results/columns.js";

const rule = (table: keyof typeof tables, name: string) => columnRules(tableJsonSchema(tables[table])).find((r) => r.name === name)!;

describe("column rules and what they need read", () => {
  it("an int's bounds that only restate the type are dropped; real bounds stay", () => {
    expect(rule("transactions", "quantity")).toEqual({ name: "quantity", sparkType: "int", nullable: false });
    expect(rule("customer_segments", "cluster")).toMatchObject({ minimum: 0 });
    expect(rule("customer_segments", "cluster").maximum).toBeUndefined();
  });

  it("reads nothing of a nullable column without value rules, or of a REQUIRED one", () => {
    expect(needsOf(rule("events", "query"), { name: "query", repetition_type: "OPTIONAL" })).toEqual({ nulls: false, values: false });
    expect(needsOf(rule("events", "event_id"), { name: "event_id", repetition_type: "REQUIRED" })).toEqual({ nulls: false, values: false });
  });

  it("reads the definition levels of an OPTIONAL column the schema says is never null", () => {
    expect(needsOf(rule("events", "event_id"), { name: "event_id", repetition_type: "OPTIONAL" })).toEqual({ nulls: true, values: false });
  });

  it("reads values for allowed values, ranges, patterns and doubles (NaN)", () => {
    expect(needsOf(rule("events", "event_type"), { name: "event_type", repetition_type: "REQUIRED" }).values).toBe(true);
    expect(needsOf(rule("customer_segments", "cluster"), { name: "cluster", repetition_type: "REQUIRED" }).values).toBe(true);
    expect(needsOf(rule("customer_segments", "segment"), { name: "segment", repetition_type: "REQUIRED" }).values).toBe(true);
    expect(needsOf(rule("transactions", "unit_price"), { name: "unit_price", repetition_type: "REQUIRED" }).values).toBe(true);
  });

  it("says why a value breaks its rule", () => {
    expect(valueProblem(rule("customer_segments", "cluster"), -1)).toBe("-1 is below the minimum 0");
    expect(valueProblem(rule("customer_segments", "cluster"), 3)).toBeUndefined();
    expect(valueProblem(rule("transactions", "unit_price"), Number.NaN)).toBe("is NaN");
    expect(valueProblem(rule("events", "event_type"), "buy")).toBe('"buy" is not one of view, search, cart, favourite');
    expect(valueProblem(rule("customer_segments", "segment"), "loyal-2")).toBeUndefined();
    expect(valueProblem(rule("customer_segments", "segment"), "vip")).toMatch(/^"vip" does not match/);
  });
});
