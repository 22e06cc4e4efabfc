# A long-running EMR on EC2 cluster for `--target emr --cluster-id <id>`, created only with
# create_emr_cluster = true: it bills per second from start until it terminates (by itself after
# idle_timeout_seconds without steps, or with `terraform destroy`).
#
# Release: every emr-7.x release has Spark 3.5 (emr-7.0.0: 3.5.0, emr-7.5.0: 3.5.2, emr-7.6.0 and
# emr-7.7.0: 3.5.3, emr-7.8.0: 3.5.4, emr-7.9.0 and emr-7.10.0: 3.5.5, emr-7.11.0: 3.5.6). The
# default emr-7.9.0 runs Spark 3.5.5, the version of the pinned pyspark.
#
# Steps: sparkjobs submits each run as one command-runner.jar step with ActionOnFailure CONTINUE,
# the only value EMR accepts when step_concurrency_level is above 1.

# Runtime roles for steps (ExecutionRoleArn on AddJobFlowSteps) need this security configuration.
resource "aws_emr_security_configuration" "runtime_roles" {
  count       = var.create_emr_cluster && var.enable_runtime_roles ? 1 : 0
  name_prefix = "${var.name_prefix}-runtime-roles-"

  configuration = jsonencode({
    AuthorizationConfiguration = {
      IAMConfiguration = {
        EnableApplicationScopedIAMRole = true
        ApplicationScopedIAMRoleConfiguration = {
          PropagateSourceIdentity = true
        }
      }
    }
  })
}

resource "aws_emr_cluster" "this" {
  #checkov:skip=CKV2_AWS_7:No security groups are passed: EMR creates and manages its own for the cluster in subnet_id, and EMR block public access (on by default in every account and Region) refuses to launch a cluster whose groups admit 0.0.0.0/0 or ::/0 on any port but 22; key_name is null by default, so no SSH key is on the nodes.
  count = var.create_emr_cluster ? 1 : 0

  name          = "${var.name_prefix}-emr"
  release_label = var.release_label
  applications  = ["Spark"]
  service_role  = aws_iam_role.emr_service.arn
  log_uri       = local.emr_log_uri

  security_configuration = var.enable_runtime_roles ? aws_emr_security_configuration.runtime_roles[0].name : null

  keep_job_flow_alive_when_no_steps = true
  termination_protection            = false
  step_concurrency_level            = var.step_concurrency_level

  auto_termination_policy {
    idle_timeout = var.idle_timeout_seconds
  }

  ec2_attributes {
    subnet_id        = var.subnet_id
    instance_profile = aws_iam_instance_profile.emr_ec2.arn
    key_name         = var.key_name
  }

  master_instance_group {
    instance_type  = var.master_instance_type
    instance_count = 1
  }

  core_instance_group {
    instance_type  = var.core_instance_type
    instance_count = var.core_instance_count

    ebs_config {
      size                 = var.core_ebs_size_gb
      type                 = "gp3"
      volumes_per_instance = 1
    }
  }

  tags = merge(
    # AmazonEMRServicePolicy_v2 acts only on resources that carry this tag.
    { "for-use-with-amazon-emr-managed-policies" = "true" },
    # The Step Functions role may add steps to clusters with this tag (iam.tf).
    var.emr_cluster_tag_key == null ? {} : { (var.emr_cluster_tag_key) = var.name_prefix },
  )

  lifecycle {
    precondition {
      condition     = var.subnet_id != null
      error_message = "create_emr_cluster = true needs subnet_id: a subnet with routes to S3 and the EMR API, tagged for-use-with-amazon-emr-managed-policies = true."
    }
  }

  depends_on = [
    aws_iam_role_policy_attachment.emr_service,
    aws_iam_role_policy.emr_service_pass_role,
    aws_iam_role_policy.emr_ec2,
    aws_s3_bucket_policy.tls_only,
  ]
}
