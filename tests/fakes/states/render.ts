/**
 * The state machines of infra/terraform/state-machines/, rendered as Terraform renders them for
 * step_functions.tf: by Terraform's own templatefile (the templates use `%{ if }` directives and
 * jsonencode), in a throwaway folder with a main.tf of outputs, `terraform init`, `apply` and
 * `output -raw`, as scripts/infra-check.sh does. No provider and no AWS account are needed. Each
 * rendered definition is also checked by asl-validator, the check infra-check.sh makes.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const repo = join(import.meta.dirname, "..", "..", "..");
export const STATE_MACHINES_DIR = join(repo, "infra", "terraform", "state-machines");

export interface EmrStepVariables {
  partition?: string;
  execution_role_arn: string;
  timeout_seconds: number;
  max_add_attempts: number;
  step_poll_seconds: number;
}

export interface EmrServerlessVariables {
  partition?: string;
  execution_role_arn: string;
  default_log_uri: string;
  timeout_seconds: number;
}

export interface RenderedMachines {
  emrStep: string;
  emrServerless: string;
}

/** An HCL object literal of strings and numbers (JSON's string escapes are HCL's; no template sequences occur). */
function hcl(values: Record<string, string | number>): string {
  for (const v of Object.values(values)) if (typeof v === "string" && /\$\{|%\{/.test(v)) throw new Error(`a template sequence in ${v}`);
  return `{ ${Object.entries(values).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(", ")} }`;
}

async function terraform(dir: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run("terraform", args, { cwd: dir, env: { ...process.env, TF_IN_AUTOMATION: "1", CHECKPOINT_DISABLE: "1" }, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === "ENOENT") {
      throw new Error("terraform is not installed: the state machines are Terraform templates (infra/terraform/state-machines/*.json.tftpl), rendered by its templatefile; install terraform (scripts/infra-check.sh needs it too)");
    }
    throw new Error(`terraform ${args.join(" ")} failed: ${err.stderr ?? err.message}`);
  }
}

/** Both machines, rendered with the variables given. */
export async function renderStateMachines(emrStep: EmrStepVariables, emrServerless: EmrServerlessVariables): Promise<RenderedMachines> {
  const dir = mkdtempSync(join(tmpdir(), "sparkjobs-sfn-render-"));
  try {
    writeFileSync(
      join(dir, "main.tf"),
      [
        `output "emr-step" { value = templatefile(${JSON.stringify(join(STATE_MACHINES_DIR, "emr-step.json.tftpl"))}, ${hcl({ partition: "aws", ...emrStep })}) }`,
        `output "emr-serverless" { value = templatefile(${JSON.stringify(join(STATE_MACHINES_DIR, "emr-serverless.json.tftpl"))}, ${hcl({ partition: "aws", ...emrServerless })}) }`,
        "",
      ].join("\n"),
    );
    await terraform(dir, ["init", "-input=false", "-no-color"]);
    await terraform(dir, ["apply", "-auto-approve", "-input=false", "-no-color"]);
    const rendered = { emrStep: await terraform(dir, ["output", "-raw", "emr-step"]), emrServerless: await terraform(dir, ["output", "-raw", "emr-serverless"]) };
    await validateAsl(dir, rendered);
    return rendered;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** asl-validator on each rendered definition; its complaints, if any, are the error. */
async function validateAsl(dir: string, rendered: RenderedMachines): Promise<void> {
  const files = Object.entries(rendered).map(([name, text]) => {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, text);
    return file;
  });
  try {
    await run("npx", ["--no-install", "asl-validator", ...files.flatMap((f) => ["--json-path", f])], { cwd: repo });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`asl-validator rejects a rendered state machine:\n${err.stdout ?? ""}${err.stderr ?? err.message}`);
  }
}
