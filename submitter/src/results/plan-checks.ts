/**
 * The quality gates of a finished run come from its staged plan (found by the manifest's plan
 * hash), so `validate` judges a run by the gates it ran with, not by today's definition.
 */
import { runPlan, type CheckSpec, type RunManifest } from "../../../schemas/src/index.js";
import { joinUri } from "../plan/build.js";
import type { Storage } from "../stage/storage.js";

/** The run's gates, or undefined when its staged plan is gone (then no gate can be judged). */
export async function readPlanChecks(storage: Storage, root: string, manifest: RunManifest): Promise<CheckSpec[] | undefined> {
  const text = await storage.readText(joinUri(root, "stage", "plans", `${manifest.planSha256}.json`));
  if (text === undefined) return undefined;
  const parsed = runPlan.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data.checks : undefined;
}
