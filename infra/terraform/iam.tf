# Roles:
#   emr_service     the EMR service role (AmazonEMRServicePolicy_v2)
#   emr_ec2         the cluster nodes' instance profile: with runtime roles, only what the cluster
#                   itself needs (its logs under emr/, EMR's artifacts, describing the cluster,
#                   assuming the runtime role), none of the data; without them, the data bucket too
#                   (steps then run as this role)
#   emr_runtime     the role steps run under (ExecutionRoleArn on AddJobFlowSteps): the data
#                   bucket, writing logs under emr/; assumed by the nodes' role, so its trust policy
#                   names emr_ec2
#   serverless_job  the EMR Serverless job execution role: the data bucket, writing logs under
#                   serverless/, Glue catalog read
#   step_functions  the state machines' role: list/add/describe/cancel the steps of the allowed
#                   clusters only, start/get/cancel EMR Serverless job runs, the EventBridge rules
#                   of .sync, PassRole of the two job roles to their services only
#
# No role may delete or list other prefixes of the logs bucket: a job cannot erase the logs of
# what it did.

locals {
  s3_read_actions = ["s3:GetObject", "s3:GetObjectVersion"]
  s3_write_actions = [
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
  ]
  s3_bucket_actions = ["s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:GetBucketLocation"]
  # Where each kind of job writes its logs in the logs bucket.
  log_prefixes = { emr = "emr/", serverless = "serverless/" }
}

# The data bucket: read, write and delete (Spark's commits copy and delete; a run's incomplete
# outputs are replaced), and the customer managed KMS key when there is one.
data "aws_iam_policy_document" "data_bucket" {
  statement {
    sid       = "DataBucket"
    actions   = local.s3_bucket_actions
    resources = [aws_s3_bucket.data.arn]
  }

  statement {
    sid       = "DataObjects"
    actions   = concat(local.s3_read_actions, local.s3_write_actions)
    resources = ["${aws_s3_bucket.data.arn}/*"]
  }

  dynamic "statement" {
    for_each = length(local.customer_kms_key_arns) > 0 ? [1] : []
    content {
      sid       = "DataKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
      resources = local.customer_kms_key_arns
    }
  }
}

# The logs bucket: adding log objects under one prefix; no reading, listing elsewhere or deleting.
data "aws_iam_policy_document" "logs_write" {
  for_each = local.log_prefixes

  statement {
    sid       = "LogsBucket"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.logs.arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${each.value}*"]
    }
  }

  statement {
    sid       = "LogsBucketLocation"
    actions   = ["s3:GetBucketLocation"]
    resources = [aws_s3_bucket.logs.arn]
  }

  statement {
    sid       = "LogObjects"
    actions   = ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    resources = ["${aws_s3_bucket.logs.arn}/${each.value}*"]
  }

  dynamic "statement" {
    for_each = length(local.customer_kms_key_arns) > 0 ? [1] : []
    content {
      sid       = "LogsKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
      resources = local.customer_kms_key_arns
    }
  }
}

# ---------------------------------------------------------------------------------------------
# EMR service role
# ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "emr_service_trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["elasticmapreduce.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "emr_service" {
  name               = "${var.name_prefix}-emr-service"
  description        = "EMR service role of the sparkjobs cluster"
  assume_role_policy = data.aws_iam_policy_document.emr_service_trust.json
}

resource "aws_iam_role_policy_attachment" "emr_service" {
  role       = aws_iam_role.emr_service.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonEMRServicePolicy_v2"
}

# AmazonEMRServicePolicy_v2 passes only the default EMR_EC2_DefaultRole: the nodes' role here has
# another name, so the service role may pass that one too.
data "aws_iam_policy_document" "emr_service_pass_role" {
  statement {
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.emr_ec2.arn]

    condition {
      test     = "StringLike"
      variable = "iam:PassedToService"
      values   = ["ec2.amazonaws.com*"]
    }
  }
}

resource "aws_iam_role_policy" "emr_service_pass_role" {
  name   = "pass-instance-profile-role"
  role   = aws_iam_role.emr_service.id
  policy = data.aws_iam_policy_document.emr_service_pass_role.json
}

# ---------------------------------------------------------------------------------------------
# Instance profile of the cluster nodes
# ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "ec2_trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "emr_ec2" {
  name               = "${var.name_prefix}-emr-ec2"
  description        = "Instance profile role of the sparkjobs EMR cluster nodes"
  assume_role_policy = data.aws_iam_policy_document.ec2_trust.json
}

# EMR requires the instance profile to have the role's name.
resource "aws_iam_instance_profile" "emr_ec2" {
  name = aws_iam_role.emr_ec2.name
  role = aws_iam_role.emr_ec2.name
}

# With runtime roles the steps' own role reads and writes the data: the nodes keep only what the
# cluster needs. Without them the steps run as this role, which then needs the data bucket.
data "aws_iam_policy_document" "emr_ec2" {
  source_policy_documents = concat(
    [data.aws_iam_policy_document.logs_write["emr"].json],
    var.enable_runtime_roles ? [] : [data.aws_iam_policy_document.data_bucket.json],
  )

  # EMR's own artifacts (e.g. command-runner.jar's dependencies) in its regional buckets.
  statement {
    sid     = "EmrArtifacts"
    actions = ["s3:GetObject"]
    resources = [
      "arn:${local.partition}:s3:::${local.region}.elasticmapreduce/*",
      "arn:${local.partition}:s3:::elasticmapreduce/*",
    ]
  }

  statement {
    sid = "EmrReadOnly"
    actions = [
      "elasticmapreduce:DescribeCluster",
      "elasticmapreduce:DescribeStep",
      "elasticmapreduce:ListBootstrapActions",
      "elasticmapreduce:ListInstanceGroups",
      "elasticmapreduce:ListInstances",
      "elasticmapreduce:ListSteps",
    ]
    resources = ["arn:${local.partition}:elasticmapreduce:${local.region}:${local.account_id}:cluster/*"]
  }

  # The nodes assume the runtime role for each step that names it.
  dynamic "statement" {
    for_each = var.enable_runtime_roles ? [1] : []
    content {
      sid       = "AssumeRuntimeRole"
      actions   = ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]
      resources = [aws_iam_role.emr_runtime.arn]
    }
  }
}

resource "aws_iam_role_policy" "emr_ec2" {
  name   = "sparkjobs-cluster"
  role   = aws_iam_role.emr_ec2.id
  policy = data.aws_iam_policy_document.emr_ec2.json
}

# ---------------------------------------------------------------------------------------------
# EMR runtime role (per step). Needs a cluster whose security configuration has
# AuthorizationConfiguration.IAMConfiguration.EnableApplicationScopedIAMRole = true (emr.tf).
# ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "emr_runtime_trust" {
  statement {
    actions = ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]

    principals {
      type        = "AWS"
      identifiers = [aws_iam_role.emr_ec2.arn]
    }
  }
}

resource "aws_iam_role" "emr_runtime" {
  name               = "${var.name_prefix}-emr-runtime"
  description        = "Runtime role of sparkjobs EMR steps (--execution-role-arn for --target emr)"
  assume_role_policy = data.aws_iam_policy_document.emr_runtime_trust.json
}

data "aws_iam_policy_document" "emr_runtime" {
  source_policy_documents = [
    data.aws_iam_policy_document.data_bucket.json,
    data.aws_iam_policy_document.logs_write["emr"].json,
  ]
}

resource "aws_iam_role_policy" "emr_runtime" {
  name   = "sparkjobs-buckets"
  role   = aws_iam_role.emr_runtime.id
  policy = data.aws_iam_policy_document.emr_runtime.json
}

# ---------------------------------------------------------------------------------------------
# EMR Serverless job execution role
# ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "serverless_trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["emr-serverless.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "serverless_job" {
  name               = "${var.name_prefix}-emr-serverless-job"
  description        = "Job execution role of sparkjobs EMR Serverless runs (--execution-role-arn for --target emr-serverless)"
  assume_role_policy = data.aws_iam_policy_document.serverless_trust.json
}

data "aws_iam_policy_document" "serverless_job" {
  source_policy_documents = [
    data.aws_iam_policy_document.data_bucket.json,
    data.aws_iam_policy_document.logs_write["serverless"].json,
  ]

  # EMR Serverless uses the Glue Data Catalog as Spark's metastore: reading it is enough here.
  statement {
    sid = "GlueCatalogRead"
    actions = [
      "glue:GetDatabase",
      "glue:GetDatabases",
      "glue:GetTable",
      "glue:GetTables",
      "glue:GetPartition",
      "glue:GetPartitions",
      "glue:BatchGetPartition",
      "glue:GetUserDefinedFunctions",
    ]
    resources = [
      "arn:${local.partition}:glue:${local.region}:${local.account_id}:catalog",
      "arn:${local.partition}:glue:${local.region}:${local.account_id}:database/*",
      "arn:${local.partition}:glue:${local.region}:${local.account_id}:table/*/*",
      "arn:${local.partition}:glue:${local.region}:${local.account_id}:userDefinedFunction/*/*",
    ]
  }
}

resource "aws_iam_role_policy" "serverless_job" {
  name   = "sparkjobs-buckets-and-glue"
  role   = aws_iam_role.serverless_job.id
  policy = data.aws_iam_policy_document.serverless_job.json
}

# ---------------------------------------------------------------------------------------------
# Step Functions role
# ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "states_trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "step_functions" {
  name               = "${var.name_prefix}-step-functions"
  description        = "Role of the sparkjobs state machines"
  assume_role_policy = data.aws_iam_policy_document.states_trust.json
}

locals {
  # The cluster comes with each execution's input: the role may use only the clusters allowed here,
  # the one this configuration creates, those in emr_cluster_arns and those tagged
  # <emr_cluster_tag_key> = <name_prefix>. Any other cluster id fails with AccessDenied.
  emr_step_cluster_arns = compact(concat(aws_emr_cluster.this[*].arn, var.emr_cluster_arns))
  emr_step_actions = [
    "elasticmapreduce:ListSteps",
    "elasticmapreduce:AddJobFlowSteps",
    "elasticmapreduce:DescribeStep",
    "elasticmapreduce:CancelSteps",
  ]
  serverless_application_arn = (
    var.create_emr_serverless_application
    ? aws_emrserverless_application.this[0].arn
    : "arn:${local.partition}:emr-serverless:${local.region}:${local.account_id}:/applications/*"
  )
}

data "aws_iam_policy_document" "step_functions" {
  dynamic "statement" {
    for_each = length(local.emr_step_cluster_arns) > 0 ? [1] : []
    content {
      sid       = "EmrStepsOnListedClusters"
      actions   = local.emr_step_actions
      resources = local.emr_step_cluster_arns
    }
  }

  dynamic "statement" {
    for_each = var.emr_cluster_tag_key == null ? [] : [1]
    content {
      sid       = "EmrStepsOnTaggedClusters"
      actions   = local.emr_step_actions
      resources = ["arn:${local.partition}:elasticmapreduce:${local.region}:${local.account_id}:cluster/*"]

      condition {
        test     = "StringEquals"
        variable = "elasticmapreduce:ResourceTag/${var.emr_cluster_tag_key}"
        values   = [var.name_prefix]
      }
    }
  }

  statement {
    sid       = "EmrServerlessStart"
    actions   = ["emr-serverless:StartJobRun"]
    resources = [local.serverless_application_arn]
  }

  statement {
    sid       = "EmrServerlessJobRuns"
    actions   = ["emr-serverless:GetJobRun", "emr-serverless:CancelJobRun"]
    resources = ["${local.serverless_application_arn}/jobruns/*"]
  }

  # The .sync integrations learn that a step or job run ended through these managed rules.
  statement {
    sid     = "SyncEventRules"
    actions = ["events:PutTargets", "events:PutRule", "events:DescribeRule"]
    resources = [
      "arn:${local.partition}:events:${local.region}:${local.account_id}:rule/StepFunctionsGetEventForEMRAddJobFlowStepsRule",
      "arn:${local.partition}:events:${local.region}:${local.account_id}:rule/StepFunctionsGetEventsForEMRServerlessJobRule",
    ]
  }

  statement {
    sid       = "PassServerlessJobRole"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.serverless_job.arn]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["emr-serverless.amazonaws.com"]
    }
  }

  # The runtime role goes to EMR only (ExecutionRoleArn on AddJobFlowSteps).
  dynamic "statement" {
    for_each = var.enable_runtime_roles ? [1] : []
    content {
      sid       = "PassEmrRuntimeRole"
      actions   = ["iam:PassRole"]
      resources = [aws_iam_role.emr_runtime.arn]

      condition {
        test     = "StringLike"
        variable = "iam:PassedToService"
        values   = ["elasticmapreduce.amazonaws.com*"]
      }
    }
  }
}

resource "aws_iam_role_policy" "step_functions" {
  name   = "sparkjobs-emr-and-emr-serverless"
  role   = aws_iam_role.step_functions.id
  policy = data.aws_iam_policy_document.step_functions.json
}
