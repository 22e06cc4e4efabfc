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
  const outside = outsideRun(runUri, parsed.data);
  if (outside.length) {
    return { complete: false, uri, reason: `${uri} lists files outside the run folder ${runUri} (${outside.slice(0, 3).join("; ")}): it is not this run's manifest, or the run was moved` };
  }
  return { complete: true, manifest: parsed.data, uri };
}

/** What a manifest lists outside its run's folder: an output or model elsewhere, or a file path with .., a scheme or a leading /. */
export function outsideRun(runUri: string, manifest: RunManifest): string[] {
  const base = runUri.replace(/\/+$/, "");
  const within = (uri: string) => uri.startsWith(`${base}/`) && !uri.slice(base.length).split("/").some((part) => part === "..");
  const badPath = (path: string) => path === "" || path.startsWith("/") || /^[a-z][a-z0-9+.-]*:/i.test(path) || path.split("/").some((part) => part === ".." || part === ".");
  const found: string[] = [];
  for (const [name, o] of Object.entries(manifest.outputs)) {
    if (!within(o.uri)) found.push(`output ${name} at ${o.uri}`);
    for (const f of o.files) if (badPath(f.path)) found.push(`output ${name} file ${f.path}`);
  }
  for (const [name, m] of Object.entries(manifest.models ?? {})) if (!within(m.uri)) found.push(`model ${name} at ${m.uri}`);
  return found;
}

/** The files a manifest lists that are gone or have another size: a complete run that lost some of its data. */
export async function damagedFiles(storage: Storage, manifest: RunManifest): Promise<string[]> {
  const damaged: string[] = [];
  for (const o of Object.values(manifest.outputs)) {
    for (const f of o.files) {
      const uri = joinUri(o.uri, f.path);
      const size = await storage.size(uri);
      if (size !== f.bytes) damaged.push(size === undefined ? `${uri} is missing` : `${uri} has ${size} bytes, the manifest says ${f.bytes}`);
    }
  }
  return damaged;
}
