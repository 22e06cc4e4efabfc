# `terraform test` (Terraform >= 1.7) with a mocked AWS provider: no AWS account, nothing created.
# It checks the wiring: defaults, the cluster switch and its precondition, runtime roles, the
# state-machine templates and the outputs.

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
    condition     = jsondecode(aws_sfn_state_machine.emr_step[0].definition).States.RunStep.Parameters.ExecutionRoleArn == "arn:aws:iam::123456789012:role/x"
    error_message = "the emr-step state machine passes the runtime role"
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
}

run "no_runtime_roles" {
  command = apply
  variables {
    create_emr_cluster   = true
    subnet_id            = "subnet-1"
    enable_runtime_roles = false
  }
  assert {
    condition     = !contains(keys(jsondecode(aws_sfn_state_machine.emr_step[0].definition).States.RunStep.Parameters), "ExecutionRoleArn") && length(aws_emr_security_configuration.runtime_roles) == 0 && output.emr_runtime_role_arn == null
    error_message = "without runtime roles nothing passes or creates one"
  }
}

run "bad_release" {
  command = plan
  variables {
    release_label = "emr-6.15.0"
  }
  expect_failures = [var.release_label]
}
