#!/usr/bin/env bash
# Static checks of infra/terraform; none needs an AWS account and nothing is created:
#   1. checkov (pinned, in its own venv under ~/.cache/sparkjobs) on infra/terraform: any failed
#      check that is not suppressed beside its resource with `#checkov:skip=CKV_...: reason` fails;
#   2. both state machines rendered from state-machines/*.json.tftpl with representative variables
#      (by Terraform's own templatefile, no provider needed) and checked by asl-validator;
#   3. terraform fmt -check, and terraform validate and terraform test (mocked provider) when the
#      hashicorp/aws provider can be had: from the registry, or else from a local provider mirror
#      (SPARKJOBS_TF_PLUGIN_DIR, default /opt/tf-plugins when it exists). Without the provider
#      these two are skipped, said in one line, and the rest still decides the exit code.
# Works on a copy in a temporary folder: nothing is written under infra/terraform.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tf_dir="$here/infra/terraform"
checkov_version=3.3.30
venv="${SPARKJOBS_CHECKOV_VENV:-$HOME/.cache/sparkjobs/checkov-venv}"
plugin_dir="${SPARKJOBS_TF_PLUGIN_DIR:-/opt/tf-plugins}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
start=$SECONDS
failed=()

say() { echo "infra-check: $*"; }
# Terraform's notice about a missing CLI configuration file is noise here.
tf_noise() { grep -v -e 'CLI configuration' -e 'terraformrc' -e '^[╷╵│ ]*$' || true; }

# ---------------------------------------------------------------------------------------------
# 1. checkov
# ---------------------------------------------------------------------------------------------
if [[ "$("$venv/bin/checkov" --version 2>/dev/null)" != "$checkov_version" ]]; then
  say "installing checkov $checkov_version into $venv (once)"
  [[ -x "$venv/bin/pip" ]] || python3 -m venv "$venv"
  if ! "$venv/bin/pip" install --quiet --disable-pip-version-check "checkov==$checkov_version" >"$work/pip.log" 2>&1; then
    cat "$work/pip.log" >&2
    say "FAILED: could not install checkov $checkov_version into $venv" >&2
    exit 1
  fi
fi
# BC_SKIP_MAPPING and --skip-download: no calls to the vendor's API (only CKV_ ids are used here).
set +e
BC_SKIP_MAPPING=TRUE "$venv/bin/checkov" -d "$tf_dir" --compact --quiet --skip-download >"$work/checkov.txt" 2>&1
checkov_rc=$?
set -e
summary=$(grep -E '^Passed checks: [0-9]+, Failed checks: [0-9]+, Skipped checks: [0-9]+' "$work/checkov.txt" | head -1 || true)
if [[ -z "$summary" ]]; then
  cat "$work/checkov.txt" >&2
  say "FAILED: checkov printed no result (exit $checkov_rc)" >&2
  failed+=(checkov)
else
  read -r passed bad skipped < <(sed -E 's/[^0-9]+/ /g' <<<"$summary")
  say "checkov $checkov_version: $passed checks passed, $bad failed, $skipped suppressed with a reason"
  if ((bad > 0 || checkov_rc != 0)); then
    grep -v -e '^terraform scan results' -e '^$' "$work/checkov.txt" >&2 || true
    failed+=(checkov)
  fi
fi

# ---------------------------------------------------------------------------------------------
# 2. the state machines, rendered, through asl-validator
# ---------------------------------------------------------------------------------------------
if ! command -v terraform >/dev/null; then
  say "FAILED: terraform is not installed: the state machines cannot be rendered for asl-validator" >&2
  failed+=(asl-validator)
elif ! asl_version=$(cd "$here" && npx --no-install asl-validator --version 2>/dev/null); then
  say "FAILED: asl-validator is not installed (a devDependency: npm ci)" >&2
  failed+=(asl-validator)
else
  # The same variables as step_functions.tf passes, with representative values: the emr-step
  # machine with and without a runtime role, and with the longest timeout.
  mkdir "$work/render"
  cat >"$work/render/main.tf" <<'EOF'
variable "dir" { type = string }
locals {
  common = { partition = "aws", timeout_seconds = 86400 }
  emr    = merge(local.common, { max_add_attempts = 4, step_poll_seconds = 60 })
  role   = "arn:aws:iam::123456789012:role/sparkjobs-emr-runtime"
}
output "emr-step" { value = templatefile("${var.dir}/emr-step.json.tftpl", merge(local.emr, { execution_role_arn = local.role })) }
output "emr-step-no-runtime-role" { value = templatefile("${var.dir}/emr-step.json.tftpl", merge(local.emr, { execution_role_arn = "" })) }
output "emr-step-7-days" { value = templatefile("${var.dir}/emr-step.json.tftpl", merge(local.emr, { execution_role_arn = local.role, timeout_seconds = 604800, step_poll_seconds = 242 })) }
output "emr-serverless" {
  value = templatefile("${var.dir}/emr-serverless.json.tftpl", merge(local.common, {
    execution_role_arn = "arn:aws:iam::123456789012:role/sparkjobs-emr-serverless-job"
    default_log_uri    = "s3://sparkjobs-logs-abc123/serverless/"
  }))
}
EOF
  render() {
    cd "$work/render" &&
      terraform init -input=false -no-color &&
      terraform apply -auto-approve -input=false -no-color -var "dir=$tf_dir/state-machines" &&
      for m in emr-step emr-step-no-runtime-role emr-step-7-days emr-serverless; do terraform output -raw "$m" >"$m.json" || return 1; done
  }
  if ! (render) >"$work/render.log" 2>&1; then
    tf_noise <"$work/render.log" >&2
    say "FAILED: the state-machine templates do not render" >&2
    failed+=(asl-validator)
  else
    args=() names=()
    for f in "$work"/render/*.json; do
      args+=(--json-path "$f")
      names+=("$(basename "$f" .json)")
    done
    if (cd "$here" && npx --no-install asl-validator "${args[@]}") >"$work/asl.txt" 2>&1; then
      say "asl-validator $asl_version: ${#names[@]} rendered definitions valid (${names[*]})"
    else
      cat "$work/asl.txt" >&2
      say "FAILED: asl-validator" >&2
      failed+=(asl-validator)
    fi
  fi
fi

# ---------------------------------------------------------------------------------------------
# 3. terraform fmt, validate, test
# ---------------------------------------------------------------------------------------------
if command -v terraform >/dev/null; then
  if terraform -chdir="$tf_dir" fmt -check -recursive -no-color >"$work/fmt.txt" 2>&1; then
    say "terraform fmt: formatted"
  else
    tf_noise <"$work/fmt.txt" >&2
    say "FAILED: terraform fmt -check (run terraform -chdir=infra/terraform fmt -recursive)" >&2
    failed+=("terraform fmt")
  fi

  mkdir "$work/tf"
  cp -R "$tf_dir/." "$work/tf/"
  rm -rf "$work/tf/.terraform" "$work/tf/.terraform.lock.hcl"
  provider_from=""
  if timeout 180 terraform -chdir="$work/tf" init -backend=false -input=false -no-color >"$work/init.txt" 2>&1; then
    provider_from="the registry"
  elif [[ -d "$plugin_dir" ]] && timeout 180 terraform -chdir="$work/tf" init -backend=false -input=false -no-color -plugin-dir="$plugin_dir" >"$work/init-mirror.txt" 2>&1; then
    provider_from="the local mirror $plugin_dir"
  fi
  if [[ -z "$provider_from" ]]; then
    why=$(tf_noise <"$work/init.txt" | grep -m1 -E 'Error|error' | sed -E 's/^[^A-Za-z]*//' || true)
    line="SKIPPED terraform validate and terraform test: terraform init -backend=false could not get the hashicorp/aws provider (${why:-see terraform init}); no local mirror at $plugin_dir (SPARKJOBS_TF_PLUGIN_DIR); checkov, asl-validator and terraform fmt did run"
    say "$line"
    [[ "${CI:-}" == "true" ]] && say "CI=true: $line" >&2
  else
    if terraform -chdir="$work/tf" validate -no-color >"$work/validate.txt" 2>&1; then
      say "terraform validate: valid (provider from $provider_from)"
    else
      tf_noise <"$work/validate.txt" >&2
      say "FAILED: terraform validate" >&2
      failed+=("terraform validate")
    fi
    if terraform -chdir="$work/tf" test -no-color >"$work/test.txt" 2>&1; then
      runs=$(grep -c -E '^  run "[^"]+"\.\.\. pass' "$work/test.txt" || true)
      say "terraform test: all $runs runs of tests/config.tftest.hcl pass (mocked provider)"
    else
      tf_noise <"$work/test.txt" >&2
      say "FAILED: terraform test" >&2
      failed+=("terraform test")
    fi
  fi
fi

if ((${#failed[@]} > 0)); then
  say "FAILED: $(printf '%s, ' "${failed[@]}" | sed 's/, $//') ($((SECONDS - start)) s)" >&2
  exit 1
fi
say "all checks passed ($((SECONDS - start)) s)"
