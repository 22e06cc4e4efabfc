# Two state machines that run one staged sparkjobs run each: (a) as a step on an EMR cluster,
# (b) as an EMR Serverless job run. Their input is what `sparkjobs stage <job> --target ...`
# prints, plus the cluster or application id (README.md shows an example). Both are STANDARD
# workflows: the .sync integrations wait for the step or job run to end.
#
# Stopping an execution of (a) does not stop the cluster (nor, before the step ends, the step):
# the cluster runs until it is idle for idle_timeout_seconds or is terminated.

resource "aws_sfn_state_machine" "emr_step" {
  count    = var.create_state_machines ? 1 : 0
  name     = "${var.name_prefix}-emr-step"
  role_arn = aws_iam_role.step_functions.arn
  type     = "STANDARD"

  definition = templatefile("${path.module}/state-machines/emr-step.json.tftpl", {
    partition = local.partition
    # "": the step runs under the cluster's instance profile (a cluster without runtime roles).
    execution_role_arn = var.enable_runtime_roles ? aws_iam_role.emr_runtime.arn : ""
  })

  depends_on = [aws_iam_role_policy.step_functions]
}

resource "aws_sfn_state_machine" "emr_serverless" {
  count    = var.create_state_machines ? 1 : 0
  name     = "${var.name_prefix}-emr-serverless"
  role_arn = aws_iam_role.step_functions.arn
  type     = "STANDARD"

  definition = templatefile("${path.module}/state-machines/emr-serverless.json.tftpl", {
    partition          = local.partition
    execution_role_arn = aws_iam_role.serverless_job.arn
    # Where the job run's logs go when the input has no monitoring logUri (stage without --log-uri).
    default_log_uri = local.serverless_log_uri
  })

  depends_on = [aws_iam_role_policy.step_functions]
}
