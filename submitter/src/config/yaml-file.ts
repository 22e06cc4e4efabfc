/**
 * YAML parsing that keeps line numbers, so that a schema error can point at the line of the
 * offending key, and zod issues turned into Problems.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import type { Problem } from "../errors.js";

export interface ParsedYaml {
  value: unknown;
  lineOf(path: readonly PropertyKey[]): number | undefined;
  problems: Problem[];
}

/** Definitions are small: a larger file is refused before it is parsed (a parse of megabytes takes minutes). */
export const MAX_DEFINITION_BYTES = 256 * 1024;

export function parseYaml(file: string, text: string): ParsedYaml {
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_DEFINITION_BYTES) {
    return { value: undefined, lineOf: () => undefined, problems: [{ file, message: `the file is ${(bytes / 1024 / 1024).toFixed(1)} MiB; a definition may have at most ${MAX_DEFINITION_BYTES / 1024} KiB (is it the right file?)` }] };
  }
  const lines = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problems: Problem[] = [...doc.errors, ...doc.warnings].map((e) => ({
    file,
    line: lines.linePos(e.pos[0]).line,
    message: `YAML: ${e.message.split("\n")[0]}`,
  }));
  const lineOf = (path: readonly PropertyKey[]): number | undefined => {
    // Walk down as far as the path exists; report the deepest node found.
    let node: unknown = doc.contents;
    let found: unknown = node;
    for (const key of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
        if (!pair) break;
        // A path ending at a map entry points at its key's line, even when the value is a block below.
        found = pair.key;
        node = pair.value;
        if (!node) break;
      } else if (isSeq(node) && typeof key === "number") {
        node = node.items[key];
        if (!node) break;
        found = node;
      } else break;
    }
    const range = (found as { range?: [number, number, number] } | undefined)?.range;
    return range ? lines.linePos(range[0]).line : undefined;
  };
  if (problems.length) return { value: undefined, lineOf, problems };
  try {
    // maxAliasCount: an alias expanding to aliases (a "billion laughs") is refused, not expanded.
    return { value: doc.toJS({ maxAliasCount: 1000 }), lineOf, problems };
  } catch (e) {
    return { value: undefined, lineOf, problems: [{ file, message: `YAML: ${(e as Error).message.includes("alias") ? "its aliases (*name) expand too far: write the values out, or use fewer aliases" : (e as Error).message}` }] };
  }
}

export function dottedPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) out += typeof key === "number" ? `[${key}]` : out ? `.${String(key)}` : String(key);
  return out;
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}

/** A missing key that an unknown key was probably meant to be. */
function likelyMeant(unknown: string, missing: string[]): string | undefined {
  const u = unknown.toLowerCase();
  return missing.find((m) => u.includes(m.toLowerCase()) || m.toLowerCase().includes(u) || editDistance(u, m.toLowerCase()) <= 2);
}

/** zod issues as Problems with file, line and dotted path; unknown keys point at the key itself. */
export function zodProblems(file: string, parsed: ParsedYaml, error: z.ZodError): Problem[] {
  const problems: Problem[] = [];
  // Required keys that are missing, by the dotted path of their object: an unknown key next to
  // one of them is reported once, as a misspelling.
  const missing = new Map<string, string[]>();
  for (const issue of error.issues) {
    if (issue.code === "invalid_type" && issue.message.endsWith("received undefined") && issue.path.length) {
      const parent = dottedPath(issue.path.slice(0, -1));
      missing.set(parent, [...(missing.get(parent) ?? []), String(issue.path[issue.path.length - 1])]);
    }
  }
  const explained = new Set<string>();
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const path = [...issue.path, key];
        const meant = likelyMeant(key, missing.get(dottedPath(issue.path)) ?? []);
        if (meant) explained.add(dottedPath([...issue.path, meant]));
        const message = meant ? `unknown key "${key}": did you mean "${meant}"?` : `unknown key "${key}" (remove it or fix its spelling)`;
        problems.push({ file, line: parsed.lineOf(path), path: dottedPath(path), message });
      }
    }
  }
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys" || explained.has(dottedPath(issue.path))) continue;
    let message = issue.message.endsWith("received undefined") ? `is required (${issue.message.replace("Invalid input: ", "").replace(", received undefined", "")})` : issue.message;
    if (issue.code === "invalid_union" && "errors" in issue) {
      // Name the closest branch rather than "invalid input".
      const branches = (issue as { errors: z.core.$ZodIssue[][] }).errors;
      const closest = [...branches].sort((a, b) => a.length - b.length)[0];
      if (closest?.length) {
        for (const inner of closest) {
          const path = [...issue.path, ...inner.path];
          const keys = inner.code === "unrecognized_keys" ? ` ${inner.keys.map((k) => `"${k}"`).join(", ")}` : "";
          problems.push({ file, line: parsed.lineOf(path), path: dottedPath(path), message: `${inner.message}${keys}` });
        }
        continue;
      }
    }
    problems.push({ file, line: parsed.lineOf(issue.path), path: dottedPath(issue.path) || "(top level)", message });
  }
  return problems;
}
