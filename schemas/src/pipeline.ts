/**
 * Pipelines (jobs/pipelines/<name>.yaml): jobs run in order, each reading the outputs of earlier
 * steps through their manifests. A step's run id is `<pipeline run id>.<step>`, so running the
 * same pipeline run id again reuses every complete step and runs the rest.
 */
import { z } from "zod";
import { identifier, paramSpec } from "./definition.js";

/** A step parameter: a literal, or text with {param} (a pipeline parameter) and {steps.<name>} (that step's run id). */
const stepValue = z.union([z.string(), z.number(), z.boolean()]);

export const pipelineStep = z.strictObject({
  name: identifier,
  job: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, "a job name: lower-case letters, digits and -"),
  params: z.record(identifier, stepValue).default({}),
  description: z.string().optional(),
});

export const pipelineDefinition = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, "use lower-case letters, digits and -"),
  version: z.number().int().positive(),
  description: z.string(),
  params: z.record(identifier, paramSpec).default({}),
  steps: z.array(pipelineStep).min(1),
});
export type PipelineDefinition = z.infer<typeof pipelineDefinition>;
export type PipelineStep = z.infer<typeof pipelineStep>;
