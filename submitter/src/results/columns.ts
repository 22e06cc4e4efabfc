/**
 * Column rules derived from a table's exported JSON Schema: the same file the runner reads, so
 * the submitter and the runner cannot disagree about a table. Pure.
 */
export interface ColumnRule {
  name: string;
  sparkType: string;
  nullable: boolean;
  minimum?: number;
  maximum?: number;
  enum?: readonly string[];
  pattern?: RegExp;
}

interface JsonProp {
  type?: string;
  sparkType?: string;
  minimum?: number;
  maximum?: number;
  enum?: string[];
  pattern?: string;
  anyOf?: JsonProp[];
}

const TYPE_RANGE: Readonly<Record<string, readonly [number, number]>> = {
  int: [-(2 ** 31), 2 ** 31 - 1],
};

export function columnRules(tableSchema: Record<string, unknown>): ColumnRule[] {
  const props = (tableSchema.properties ?? {}) as Record<string, JsonProp>;
  return Object.entries(props).map(([name, prop]) => {
    const nonNull = prop.anyOf ? prop.anyOf.find((p) => p.type !== "null")! : prop;
    const rule: ColumnRule = { name, sparkType: nonNull.sparkType ?? "unknown", nullable: Boolean(prop.anyOf) };
    // Bounds that only restate the type (an int's -2^31..2^31-1) need no reading: the type check covers them.
    const [typeMin, typeMax] = TYPE_RANGE[rule.sparkType] ?? [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
    if (nonNull.minimum !== undefined && nonNull.minimum > typeMin) rule.minimum = nonNull.minimum;
    if (nonNull.maximum !== undefined && nonNull.maximum < typeMax) rule.maximum = nonNull.maximum;
    if (nonNull.enum) rule.enum = nonNull.enum;
    if (nonNull.pattern && nonNull.sparkType === "string") rule.pattern = new RegExp(nonNull.pattern);
    return rule;
  });
}

/** Physical Spark types a column may have for each sparkType of the schemas (widening only). */
export const ACCEPTED_TYPES: Readonly<Record<string, readonly string[]>> = {
  string: ["string"],
  int: ["int", "smallint", "tinyint"],
  bigint: ["bigint", "int", "smallint", "tinyint"],
  double: ["double", "float"],
  boolean: ["boolean"],
  date: ["date"],
  timestamp: ["timestamp"],
  timestamp_ntz: ["timestamp_ntz", "timestamp"],
};

export function typeAccepted(expected: string, actual: string): boolean {
  return (ACCEPTED_TYPES[expected] ?? [expected]).includes(actual);
}
