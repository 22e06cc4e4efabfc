/**
 * A run is complete only when its manifest is there and valid: the runner writes it last.
 */
import { runManifest, type RunManifest } from "../../../schemas/src/index.js";
import { joinUri } from "../plan/build.js";
import type { Storage } from "../stage/storage.js";

export type ManifestState =
  | { complete: true; manifest: RunManifest; uri: string }
  | { complete: false; reason: string; uri: string };

export async function readManifest(storage: Storage, runUri: string): Promise<ManifestState> {
  const uri = joinUri(runUri, "_manifest.json");
  const text = await storage.readText(uri);
  if (text === undefined) {
    const started = (await storage.list(runUri)).length > 0;
    return {
      complete: false,
      uri,
      reason: started ? `the run folder has files but no ${uri}: the run stopped before it finished` : `nothing at ${runUri}: the run has not written anything`,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { complete: false, uri, reason: `${uri} is not valid JSON (${(e as Error).message})` };
  }
  const parsed = runManifest.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return { complete: false, uri, reason: `${uri} does not match run-manifest.schema.json at ${first?.path.join(".") || "(top)"}: ${first?.message}` };
  }
  return { complete: true, manifest: parsed.data, uri };
}
