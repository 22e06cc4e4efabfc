/**
 * sqlParamRefs: the :name markers Spark would bind, with their lines. Anything Spark does not
 * read as a parameter marker (inside strings, quoted identifiers, comments, :: casts, a:b inside
 * a word) must not be reported, or checkJob would ask for parameters the SQL does not use.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, test } from "vitest";
import { sqlParamRefs } from "../../submitter/src/config/sql-params.js";

const names = (sql: string) => sqlParamRefs(sql).map((r) => r.name);

describe("sqlParamRefs finds", () => {
  test("markers with their lines, in order, repeated ones each time", () => {
    const sql = "SELECT *\nFROM t\nWHERE d < :snapshot_date\n  AND q > :max_quantity OR d = :snapshot_date\n";
    expect(sqlParamRefs(sql)).toEqual([
      { name: "snapshot_date", line: 3 },
      { name: "max_quantity", line: 4 },
      { name: "snapshot_date", line: 4 },
    ]);
  });

  test("markers next to punctuation and operators", () => {
    expect(names("f(:a,:b)+:c*-:d||:e=:f<>:g")).toEqual(["a", "b", "c", "d", "e", "f", "g"]);
    expect(names("IDENTIFIER(:table_name)")).toEqual(["table_name"]);
    expect(names("x IN (:a)\n,:b")).toEqual(["a", "b"]);
  });

  test("names with digits and underscores, starting with a letter or _", () => {
    expect(names(":a1_b2 :_x :9z")).toEqual(["a1_b2", "_x"]);
  });

  test("a marker right after a string, an identifier or a comment ends", () => {
    expect(sqlParamRefs("SELECT 'a' || :x, `c`=:y /* c */:z -- d\n:w")).toEqual([
      { name: "x", line: 1 },
      { name: "y", line: 1 },
      { name: "z", line: 1 },
      { name: "w", line: 2 },
    ]);
  });
});

describe("sqlParamRefs skips", () => {
  test.each([
    ["a single-quoted string", "SELECT 'at :noon' AS s, :real"],
    ["a string with an escaped quote", "SELECT 'it\\'s :noon' AS s, :real"],
    ["a string with a doubled quote", "SELECT 'it''s :noon' AS s, :real"],
    ["a double-quoted string", 'SELECT "at :noon" AS s, :real'],
    ["a backquoted identifier", "SELECT `odd:name` AS s, :real"],
    ["a line comment", "SELECT :real -- not :this one\n"],
    ["a line comment at the end without newline", "SELECT :real -- not :this"],
    ["a block comment", "SELECT /* :this\n and :that */ :real"],
    ["an unterminated block comment", "SELECT :real /* :this"],
    ["an unterminated string", "SELECT :real, 'oops :this"],
    [":: casts", "SELECT x::int, y::timestamp, :real"],
    ["a:b inside a word", "SELECT a:b, map_col:key, 1:2, :real"],
    ["a time literal", "SELECT TIMESTAMP'2024-01-01 12:30:00', :real"],
    ["a lone colon", "SELECT : , :1, :real"],
  ])("%s", (_what, sql) => {
    expect(names(sql)).toEqual(["real"]);
  });

  test("nested block comments, as Spark reads them", () => {
    // Spark SQL's bracketed comments nest: `/* a /* b */ :x */` is one comment, and
    // spark.sql("/* a /* b */ :x */ SELECT 1") runs without binding :x.
    expect(names("/* a /* b */ :x */ SELECT :real")).toEqual(["real"]);
  });
});

describe("sqlParamRefs counts lines", () => {
  test("through strings, identifiers and comments that span lines", () => {
    const sql = [
      "SELECT 'two", // 1
      "lines' AS s,", // 2
      "/* block", // 3
      "comment */ `multi", // 4
      "line` AS t, -- :no", // 5
      ":here", // 6
    ].join("\n");
    expect(sqlParamRefs(sql)).toEqual([{ name: "here", line: 6 }]);
  });

  test("with CRLF line ends", () => {
    expect(sqlParamRefs("SELECT 1\r\nWHERE a = :a\r\n  AND b = :b")).toEqual([
      { name: "a", line: 2 },
      { name: "b", line: 3 },
    ]);
  });

  test("an empty text has no markers", () => {
    expect(sqlParamRefs("")).toEqual([]);
  });
});

describe("the committed SQL files", () => {
  const sqlDir = join(import.meta.dirname, "..", "..", "jobs", "spark-sql");
  const files = readdirSync(sqlDir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".sql"))
    .map((e) => relative(sqlDir, join(e.parentPath, e.name)));

  test.each(files)("%s: every reported marker is at a ':' on its line, outside comments", (file) => {
    const text = readFileSync(join(sqlDir, file), "utf8");
    const lines = text.split("\n");
    for (const ref of sqlParamRefs(text)) {
      const line = lines[ref.line - 1] ?? "";
      const code = line.replace(/--.*$/, "");
      expect(code, `${file}:${ref.line}`).toMatch(new RegExp(`(^|[^A-Za-z0-9_:]):${ref.name}(?![A-Za-z0-9_])`));
    }
  });
});
