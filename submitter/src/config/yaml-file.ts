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

export function parseYaml(file: string, text: string): ParsedYaml {
  const lines = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problems: Problem[] = [...doc.errors, ...doc.warnings].map((e) => ({
    file,
    line: e.linePos?.[0]?.line,
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
        found = pair.key;
        node = pair.value;
        if (node) found = node;
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
  return { value: problems.length ? undefined : doc.toJS(), lineOf, problems };
}

export function dottedPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) out += typeof key === "number" ? `[${key}]` : out ? `.${String(key)}` : String(key);
  return out;
}

/** zod issues as Problems with file, line and dotted path; unknown keys point at the key itself. */
export function zodProblems(file: string, parsed: ParsedYaml, error: z.ZodError): Problem[] {
  const problems: Problem[] = [];
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const path = [...issue.path, key];
        problems.push({ file, line: parsed.lineOf(path), path: dottedPath(path), message: `unknown key "${key}" (remove it or fix its spelling)` });
      }
      continue;
    }
    let message = issue.message;
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
