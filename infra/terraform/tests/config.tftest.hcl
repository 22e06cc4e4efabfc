# `terraform test` (Terraform >= 1.7) with a mocked AWS provider: no AWS account, nothing created.
# It checks the wiring: defaults, the cluster switch and its precondition, runtime roles, the
# state-machine templates, the outputs, and the statements of the IAM policy documents (their
# JSON is mocked, their statement blocks are what the configuration wrote).

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = { bucket = "sparkjobs-data-abc", arn = "arn:aws:s3:::sparkjobs-data-abc" }
  }
  mock_resource "aws_emrserverless_application" {
    defaults = { id = "00fabcdef", arn = "arn:aws:emr-serverless:eu-west-1:123456789012:/applications/00fabcdef" }
  }
  mock_resource "aws_emr_cluster" {
    defaults = { id = "j-ABCDEF" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/x" }
  }
}

run "defaults" {
  command = apply
  assert {
    condition     = output.emr_cluster_id == null && length(aws_emr_cluster.this) == 0
    error_message = "create_emr_cluster defaults to false: no cluster"
  }
  assert {
    condition     = output.root_uri == "s3://sparkjobs-data-abc/sparkjobs"
    error_message = "root_uri: ${output.root_uri}"
  }
  assert {
    condition     = jsondecode(aws_sfn_state_machine.emr_step[0].definition).States.AddStep.Arguments.ExecutionRoleArn == "arn:aws:iam::123456789012:role/x"
    error_message = "the emr-step state machine passes the runtime role"
  }
  assert {
    condition = (
      jsondecode(aws_sfn_state_machine.emr_step[0].definition).States.AddStep.Arguments.Step.ActionOnFailure == "CONTINUE"
      && jsondecode(aws_sfn_state_machine.emr_step[0].definition).States.AddStep.Arguments.Step.HadoopJarStep.Jar == "command-runner.jar"
      && jsondecode(aws_sfn_state_machine.emr_step[0].definition).States.AddStep.Arguments.Step.HadoopJarStep.Args == "{% $stepArgs %}"
    )
    error_message = "the step is built from checked fields: always CONTINUE and command-runner.jar, never the input's Step object"
  }
  assert {
    condition     = !can(jsondecode(aws_sfn_state_machine.emr_step[0].definition).States.AddStep.Retry)
    error_message = "AddJobFlowSteps is never retried blindly: a failed add goes back to ListSteps"
  }
  assert {
    condition     = jsondecode(aws_sfn_state_machine.emr_step[0].definition).States.AddStep.Catch[0].Next == "BackOff" && jsondecode(aws_sfn_state_machine.emr_step[0].definition).States.BackOff.Next == "ListSteps"
    error_message = "a failed add looks for the step again before adding it again"
  }
  assert {
    condition     = jsondecode(aws_sfn_state_machine.emr_step[0].definition).TimeoutSeconds == 86400 && jsondecode(aws_sfn_state_machine.emr_serverless[0].definition).TimeoutSeconds == 86400
    error_message = "both state machines time out after 24 hours by default"
  }
  assert {
    condition = (
      jsondecode(aws_sfn_state_machine.emr_serverless[0].definition).States.RunJob.Parameters["ClientToken.$"] == "$.runId"
      && toset(jsondecode(aws_sfn_state_machine.emr_serverless[0].definition).States.RunJob.Retry[0].ErrorEquals) == toset(["EMRServerless.ThrottlingException", "EMRServerless.InternalServerException"])
    )
    error_message = "the emr-serverless state machine retries throttling and service errors only, with the run id as ClientToken"
  }
  assert {
    condition     = [for st in data.aws_iam_policy_document.step_functions.statement : st.resources if st.sid == "EmrStepsOnTaggedClusters"][0] == toset(["arn:aws:elasticmapreduce:eu-west-1:123456789012:cluster/*"]) && one([for st in data.aws_iam_policy_document.step_functions.statement : st.condition if st.sid == "EmrStepsOnTaggedClusters"][0]).variable == "elasticmapreduce:ResourceTag/sparkjobs:steps"
    error_message = "cluster/* only with the tag condition"
  }
  assert {
    condition     = length([for st in data.aws_iam_policy_document.step_functions.statement : st if st.sid == "EmrStepsOnListedClusters"]) == 0
    error_message = "no cluster created or listed: no statement by ARN"
  }
  assert {
    condition     = alltrue([for st in data.aws_iam_policy_document.step_functions.statement : contains([for c in st.condition : c.variable], "iam:PassedToService") if contains(st.actions, "iam:PassRole")])
    error_message = "every PassRole of the Step Functions role names the service it passes to"
  }
  assert {
    condition     = length(data.aws_iam_policy_document.emr_ec2.source_policy_documents) == 1 && contains([for st in data.aws_iam_policy_document.emr_ec2.statement : st.sid], "AssumeRuntimeRole")
    error_message = "with runtime roles the instance profile gets the emr/ logs but not the data bucket"
  }
  assert {
    condition     = alltrue([for k, d in data.aws_iam_policy_document.logs_write : alltrue([for st in d.statement : !contains(st.actions, "s3:DeleteObject") && !contains(st.actions, "s3:GetObject")])])
    error_message = "no role may delete or read log objects"
  }
  assert {
    condition     = one([for st in data.aws_iam_policy_document.logs_write["serverless"].statement : st.resources if st.sid == "LogObjects"]) == toset(["arn:aws:s3:::sparkjobs-data-abc/serverless/*"])
    error_message = "EMR Serverless jobs write logs under serverless/ only"
  }
  assert {
    condition     = length(aws_s3_bucket_logging.data) == 1 && aws_s3_bucket_logging.data[0].target_prefix == "s3-access/data/"
    error_message = "the data bucket's access logs go to the logs bucket"
  }
  assert {
    condition     = jsondecode(aws_sfn_state_machine.emr_serverless[0].definition).States.DefaultLogUri.Parameters.logUri == "s3://sparkjobs-data-abc/serverless/"
    error_message = "the emr-serverless state machine falls back to the logs bucket"
  }
  assert {
    condition     = output.emr_serverless_application_id == "00fabcdef"
    error_message = "the application id is an output"
  }
}

run "cluster_needs_subnet" {
  command = plan
  variables {
    create_emr_cluster = true
  }
  expect_failures = [aws_emr_cluster.this]
}

run "cluster" {
  command = apply
  variables {
    create_emr_cluster = true
    subnet_id          = "subnet-1"
  }
  assert {
    condition     = output.emr_cluster_id == "j-ABCDEF" && length(aws_emr_security_configuration.runtime_roles) == 1
    error_message = "the cluster comes with its security configuration"
  }
  assert {
    condition     = jsondecode(aws_emr_security_configuration.runtime_roles[0].configuration).AuthorizationConfiguration.IAMConfiguration.EnableApplicationScopedIAMRole == true
    error_message = "the security configuration enables runtime roles"
  }
  assert {
    condition     = [for st in data.aws_iam_policy_document.step_functions.statement : st.resources if st.sid == "EmrStepsOnListedClusters"][0] == toset([aws_emr_cluster.this[0].arn]) && aws_emr_cluster.this[0].tags["sparkjobs:steps"] == "sparkjobs"
    error_message = "the created cluster is allowed by ARN and carries the tag"
  }
}

run "listed_clusters_only" {
  command = plan
  variables {
    emr_cluster_arns    = ["arn:aws:elasticmapreduce:eu-west-1:123456789012:cluster/j-1ABC"]
    emr_cluster_tag_key = null
  }
  assert {
    condition     = [for st in data.aws_iam_policy_document.step_functions.statement : st.resources if st.sid == "EmrStepsOnListedClusters"][0] == toset(["arn:aws:elasticmapreduce:eu-west-1:123456789012:cluster/j-1ABC"])
    error_message = "a listed cluster is allowed by its ARN"
  }
  assert {
    condition     = alltrue([for st in data.aws_iam_policy_document.step_functions.statement : !contains(st.resources, "arn:aws:elasticmapreduce:eu-west-1:123456789012:cluster/*")])
    error_message = "without a tag key no statement names cluster/*"
  }
}

run "timeout" {
  command = plan
  variables {
    state_machine_timeout_seconds = 3600
  }
  assert {
    condition     = jsondecode(aws_sfn_state_machine.emr_step[0].definition).TimeoutSeconds == 3600 && jsondecode(aws_sfn_state_machine.emr_serverless[0].definition).TimeoutSeconds == 3600
    error_message = "state_machine_timeout_seconds sets TimeoutSeconds of both"
  }
}

run "long_timeout_polls_less" {
  command = plan
  variables {
    state_machine_timeout_seconds = 604800
  }
  assert {
    condition     = jsondecode(aws_sfn_state_machine.emr_step[0].definition).States.WaitForStep.Seconds == 242
    error_message = "a 7-day timeout polls a followed step every 242 s: at most 2,500 polls"
  }
}

run "bad_timeout" {
  command = plan
  variables {
    state_machine_timeout_seconds = 0
  }
  expect_failures = [var.state_machine_timeout_seconds]
}

run "bad_cluster_arn" {
  command = plan
  variables {
    emr_cluster_arns = ["j-1ABC"]
  }
  expect_failures = [var.emr_cluster_arns]
}

run "no_runtime_roles" {
  command = apply
  variables {
    create_emr_cluster   = true
    subnet_id            = "subnet-1"
    enable_runtime_roles = false
  }
  assert {
    condition     = !contains(keys(jsondecode(aws_sfn_state_machine.emr_step[0].definition).States.AddStep.Arguments), "ExecutionRoleArn") && length(aws_emr_security_configuration.runtime_roles) == 0 && output.emr_runtime_role_arn == null
    error_message = "without runtime roles nothing passes or creates one"
  }
  assert {
    condition     = length(data.aws_iam_policy_document.emr_ec2.source_policy_documents) == 2 && !contains([for st in data.aws_iam_policy_document.emr_ec2.statement : st.sid], "AssumeRuntimeRole")
    error_message = "without runtime roles steps run as the instance profile, which then needs the data bucket"
  }
  assert {
    condition     = !contains([for st in data.aws_iam_policy_document.step_functions.statement : st.sid], "PassEmrRuntimeRole")
    error_message = "without runtime roles the state machines pass no runtime role"
  }
}

run "bad_release" {
  command = plan
  variables {
    release_label = "emr-6.15.0"
  }
  expect_failures = [var.release_label]
}
