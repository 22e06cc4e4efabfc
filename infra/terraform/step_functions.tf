# Two state machines that run one staged sparkjobs run each: (a) as a step on an EMR cluster,
# (b) as an EMR Serverless job run. Their input is what `sparkjobs stage <job> --target ...`
# prints, plus the cluster or application id (README.md shows an example). Both are STANDARD
# workflows: the .sync integrations wait for the step or job run to end.
#
# Stopping an execution of (a) does not stop the cluster (nor, before the step ends, the step):
# the cluster runs until it is idle for idle_timeout_seconds or is terminated.
#
# Neither submits a run twice: (a) looks for the run's step by name before adding it and after
# any failed add (AddJobFlowSteps has no idempotency token), (b) starts the job run with the run
# id as ClientToken. Both end after state_machine_timeout_seconds.

locals {
  # (a) adds its step at most this often when the add keeps failing and no step shows up.
  emr_step_max_add_attempts = 4
  # (a) polls a step it did not add itself (one that was already there) with DescribeStep. Each
  # poll writes 9 history events and an execution has at most 25,000: 60 seconds up to a timeout
  # of about 40 hours, longer beyond (at most 2,500 polls per execution).
  emr_step_poll_seconds = max(60, ceil(var.state_machine_timeout_seconds / 2500))
}

resource "aws_sfn_state_machine" "emr_step" {
  #checkov:skip=CKV_AWS_285:Execution history (every state's input, output and error, kept 90 days after the execution ends) is in Step Functions itself and the step's or job run's logs are in the logs bucket; CloudWatch Logs delivery would add a log group and logs:*LogDelivery on * for a machine of a few states.
  #checkov:skip=CKV_AWS_284:X-Ray would trace a few API calls around one EMR step or job run that it cannot see into; the execution history already times each state.
  count    = var.create_state_machines ? 1 : 0
  name     = "${var.name_prefix}-emr-step"
  role_arn = aws_iam_role.step_functions.arn
  type     = "STANDARD"

  definition = templatefile("${path.module}/state-machines/emr-step.json.tftpl", {
    partition = local.partition
    # "": the step runs under the cluster's instance profile (a cluster without runtime roles).
    execution_role_arn = var.enable_runtime_roles ? aws_iam_role.emr_runtime.arn : ""
    timeout_seconds    = var.state_machine_timeout_seconds
    max_add_attempts   = local.emr_step_max_add_attempts
    step_poll_seconds  = local.emr_step_poll_seconds
  })

  depends_on = [aws_iam_role_policy.step_functions]
}

resource "aws_sfn_state_machine" "emr_serverless" {
  #checkov:skip=CKV_AWS_285:Execution history (every state's input, output and error, kept 90 days after the execution ends) is in Step Functions itself and the step's or job run's logs are in the logs bucket; CloudWatch Logs delivery would add a log group and logs:*LogDelivery on * for a machine of a few states.
  #checkov:skip=CKV_AWS_284:X-Ray would trace a few API calls around one EMR step or job run that it cannot see into; the execution history already times each state.
  count    = var.create_state_machines ? 1 : 0
  name     = "${var.name_prefix}-emr-serverless"
  role_arn = aws_iam_role.step_functions.arn
  type     = "STANDARD"

  definition = templatefile("${path.module}/state-machines/emr-serverless.json.tftpl", {
    partition          = local.partition
    execution_role_arn = aws_iam_role.serverless_job.arn
    # Where the job run's logs go when the input has no monitoring logUri (stage without --log-uri).
    default_log_uri = local.serverless_log_uri
    timeout_seconds = var.state_machine_timeout_seconds
  })

  depends_on = [aws_iam_role_policy.step_functions]
}
