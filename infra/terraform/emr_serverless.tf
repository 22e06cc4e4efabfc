# An EMR Serverless application for `--target emr-serverless --application-id <id>`. It starts by
# itself when a job run is submitted and stops after serverless_idle_timeout_minutes without job
# runs; with no pre-initialized capacity it costs nothing while stopped. Same release as the
# cluster (see emr.tf for the Spark version of each emr-7.x release).

resource "aws_emrserverless_application" "this" {
  count = var.create_emr_serverless_application ? 1 : 0

  name          = "${var.name_prefix}-spark"
  release_label = var.release_label
  type          = "spark"
  architecture  = var.serverless_architecture

  auto_start_configuration {
    enabled = true
  }

  auto_stop_configuration {
    enabled              = true
    idle_timeout_minutes = var.serverless_idle_timeout_minutes
  }

  # The most all workers of all running jobs may use together: a ceiling on cost.
  maximum_capacity {
    cpu    = var.serverless_max_cpu
    memory = var.serverless_max_memory
    disk   = var.serverless_max_disk
  }

  dynamic "network_configuration" {
    for_each = length(var.serverless_subnet_ids) > 0 ? [1] : []
    content {
      subnet_ids         = var.serverless_subnet_ids
      security_group_ids = var.serverless_security_group_ids
    }
  }
}
