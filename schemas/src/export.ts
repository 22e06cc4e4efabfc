/**
 * Exports every zod schema as JSON Schema into schemas/json/. `exportSchemas` is pure (it returns
 * the files); running this module writes them. A unit test fails when the committed files are stale.
 */
import { writeFileSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { jobDefinition, mllibConfig } from "./definition.js";
import { historyEntry, runManifest } from "./manifest.js";
import { runPlan } from "./plan.js";
import { tables } from "./tables.js";
import { transientCluster } from "./targets.js";
import { pipelineDefinition } from "./pipeline.js";
import { sourceDefinition } from "./sources.js";

export function tableJsonSchema(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { target: "draft-2020-12" }) as Record<string, unknown>;
}

/** File name (under schemas/json/) -> JSON text. */
export function exportSchemas(): Record<string, string> {
  const files: Record<string, string> = {};
  const put = (name: string, schema: z.ZodType, io: "input" | "output" = "output") => {
    files[name] = `${JSON.stringify(z.toJSONSchema(schema, { target: "draft-2020-12", io }), null, 2)}\n`;
  };
  put("job-definition.schema.json", jobDefinition, "input");
  put("mllib-config.schema.json", mllibConfig, "input");
  put("run-plan.schema.json", runPlan);
  put("run-manifest.schema.json", runManifest);
  put("history-entry.schema.json", historyEntry);
  put("transient-cluster.schema.json", transientCluster, "input");
  put("pipeline-definition.schema.json", pipelineDefinition, "input");
  put("source-definition.schema.json", sourceDefinition, "input");
  for (const [name, schema] of Object.entries(tables)) put(`tables/${name}.schema.json`, schema);
  return files;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = resolve(fileURLToPath(import.meta.url), "../../../../schemas/json");
  for (const [name, text] of Object.entries(exportSchemas())) {
    mkdirSync(join(out, name, ".."), { recursive: true });
    writeFileSync(join(out, name), text);
  }
  process.stdout.write(`wrote ${Object.keys(exportSchemas()).length} schemas to ${out}\n`);
}
