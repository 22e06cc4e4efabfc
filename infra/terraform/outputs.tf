locals {
  emr_cluster_id            = one(aws_emr_cluster.this[*].id)
  serverless_application_id = one(aws_emrserverless_application.this[*].id)
  emr_runtime_role_arn      = var.enable_runtime_roles ? aws_iam_role.emr_runtime.arn : null
}

output "data_bucket" {
  description = "Bucket for inputs, runs and staged code."
  value       = aws_s3_bucket.data.bucket
}

output "logs_bucket" {
  description = "Bucket for EMR and EMR Serverless logs."
  value       = aws_s3_bucket.logs.bucket
}

output "root_uri" {
  description = "The sparkjobs --root (SPARKJOBS_ROOT)."
  value       = local.root_uri
}

output "emr_log_uri" {
  description = "LogUri of the EMR cluster: step logs under <this><cluster id>/steps/<step id>/."
  value       = local.emr_log_uri
}

output "serverless_log_uri" {
  description = "The --log-uri for --target emr-serverless."
  value       = local.serverless_log_uri
}

output "emr_cluster_id" {
  description = "The --cluster-id for --target emr (null without create_emr_cluster)."
  value       = local.emr_cluster_id
}

output "emr_serverless_application_id" {
  description = "The --application-id for --target emr-serverless (null without create_emr_serverless_application)."
  value       = local.serverless_application_id
}

output "emr_service_role_arn" {
  description = "EMR service role."
  value       = aws_iam_role.emr_service.arn
}

output "emr_instance_profile_arn" {
  description = "Instance profile of the cluster nodes."
  value       = aws_iam_instance_profile.emr_ec2.arn
}

output "emr_runtime_role_arn" {
  description = "The --execution-role-arn for --target emr (the step's runtime role; null with enable_runtime_roles = false)."
  value       = local.emr_runtime_role_arn
}

output "emr_serverless_execution_role_arn" {
  description = "The --execution-role-arn for --target emr-serverless (the job execution role)."
  value       = aws_iam_role.serverless_job.arn
}

output "step_functions_role_arn" {
  description = "Role of the state machines."
  value       = aws_iam_role.step_functions.arn
}

output "emr_step_state_machine_arn" {
  description = "State machine that runs one staged run as an EMR step."
  value       = one(aws_sfn_state_machine.emr_step[*].arn)
}

output "emr_serverless_state_machine_arn" {
  description = "State machine that runs one staged run as an EMR Serverless job run."
  value       = one(aws_sfn_state_machine.emr_serverless[*].arn)
}

output "cli_env_emr" {
  description = "Environment for `sparkjobs run|stage <job> --target emr`."
  value = join("\n", compact([
    "export AWS_REGION=${local.region}",
    "export SPARKJOBS_TARGET=emr",
    "export SPARKJOBS_ROOT=${local.root_uri}",
    local.emr_cluster_id == null ? "" : "export SPARKJOBS_EMR_CLUSTER_ID=${local.emr_cluster_id}",
    local.emr_runtime_role_arn == null ? "" : "export SPARKJOBS_EXECUTION_ROLE_ARN=${local.emr_runtime_role_arn}",
  ]))
}

output "cli_env_emr_serverless" {
  description = "Environment for `sparkjobs run|stage <job> --target emr-serverless`."
  value = join("\n", compact([
    "export AWS_REGION=${local.region}",
    "export SPARKJOBS_TARGET=emr-serverless",
    "export SPARKJOBS_ROOT=${local.root_uri}",
    local.serverless_application_id == null ? "" : "export SPARKJOBS_EMR_SERVERLESS_APPLICATION_ID=${local.serverless_application_id}",
    "export SPARKJOBS_EXECUTION_ROLE_ARN=${aws_iam_role.serverless_job.arn}",
    "export SPARKJOBS_LOG_URI=${local.serverless_log_uri}",
  ]))
}

output "cli_flags_emr" {
  description = "The same as flags, for `sparkjobs run|stage <job>`."
  value = join(" ", compact([
    "--target emr",
    "--cluster-id ${coalesce(local.emr_cluster_id, "<j-cluster-id>")}",
    "--root ${local.root_uri}",
    local.emr_runtime_role_arn == null ? "" : "--execution-role-arn ${local.emr_runtime_role_arn}",
    "--region ${local.region}",
  ]))
}

output "cli_flags_emr_serverless" {
  description = "The same as flags, for `sparkjobs run|stage <job>`."
  value = join(" ", [
    "--target emr-serverless",
    "--application-id ${coalesce(local.serverless_application_id, "<application-id>")}",
    "--execution-role-arn ${aws_iam_role.serverless_job.arn}",
    "--root ${local.root_uri}",
    "--log-uri ${local.serverless_log_uri}",
    "--region ${local.region}",
  ])
}
