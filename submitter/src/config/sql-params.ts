/**
 * Finds the named parameter markers (:name) a Spark SQL text refers to, skipping string
 * literals, quoted identifiers, comments and `::` casts. Pure.
 */
export interface SqlParamRef {
  name: string;
  line: number;
}

export function sqlParamRefs(sql: string): SqlParamRef[] {
  const refs: SqlParamRef[] = [];
  let line = 1;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === "\n") {
      line++;
      i++;
    } else if (c === "-" && next === "-") {
      while (i < sql.length && sql[i] !== "\n") i++;
    } else if (c === "/" && next === "*") {
      // Spark nests bracketed comments: /* a /* b */ still a comment */.
      let depth = 0;
      let j = i;
      while (j < sql.length) {
        if (sql[j] === "/" && sql[j + 1] === "*") {
          depth++;
          j += 2;
        } else if (sql[j] === "*" && sql[j + 1] === "/") {
          depth--;
          j += 2;
          if (depth === 0) break;
        } else {
          if (sql[j] === "\n") line++;
          j++;
        }
      }
      i = j;
    } else if (c === "'" || c === '"' || c === "`") {
      let j = i + 1;
      while (j < sql.length && sql[j] !== c) {
        if (sql[j] === "\\") j++;
        if (sql[j] === "\n") line++;
        j++;
      }
      i = j + 1;
    } else if (c === ":" && next === ":") {
      i += 2;
    } else if (c === ":" && next !== undefined && /[A-Za-z_]/.test(next) && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? " ")) {
      let j = i + 1;
      while (j < sql.length && /[A-Za-z0-9_]/.test(sql[j]!)) j++;
      refs.push({ name: sql.slice(i + 1, j), line });
      i = j;
    } else {
      i++;
    }
  }
  return refs;
}
