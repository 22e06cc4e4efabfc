# Two buckets: "data" holds the sparkjobs root (inputs, <root>/runs/, <root>/stage/code/ and
# <root>/stage/plans/); "logs" holds EMR cluster logs (emr/), EMR Serverless logs (serverless/)
# and the data bucket's S3 server access logs (s3-access/data/).

locals {
  buckets = {
    data = aws_s3_bucket.data
    logs = aws_s3_bucket.logs
  }
  root_uri              = "s3://${aws_s3_bucket.data.bucket}/${var.root_prefix}"
  emr_log_uri           = "s3://${aws_s3_bucket.logs.bucket}/emr/"
  serverless_log_uri    = "s3://${aws_s3_bucket.logs.bucket}/serverless/"
  customer_kms_key_arns = var.sse_algorithm == "aws:kms" && var.kms_key_arn != null ? [var.kms_key_arn] : []
  # S3 delivers server access logs only to a bucket whose default encryption is SSE-S3.
  data_access_logs        = var.sse_algorithm == "AES256"
  data_access_logs_prefix = "s3-access/data/"
}

resource "aws_s3_bucket" "data" {
  #checkov:skip=CKV2_AWS_62:Nothing reacts to object events: runs are found through their manifests, and the state machines learn that a step or job run ended from EMR.
  #checkov:skip=CKV_AWS_144:Replication needs a second bucket in another Region and a provider for it: a disaster-recovery choice for the account, not for this configuration; the bucket is versioned against overwrites and deletes.
  #checkov:skip=CKV_AWS_145:Default encryption follows var.sse_algorithm (s3.tf, aws_s3_bucket_server_side_encryption_configuration): SSE-KMS with sse_algorithm = "aws:kms", SSE-S3 by default, which costs no KMS requests and lets S3 deliver this bucket's access logs to the logs bucket.
  bucket        = var.data_bucket_name
  bucket_prefix = var.data_bucket_name == null ? "${var.name_prefix}-data-" : null
  force_destroy = var.force_destroy_buckets
}

resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV2_AWS_62:Nothing reacts to object events: runs are found through their manifests, and the state machines learn that a step or job run ended from EMR.
  #checkov:skip=CKV_AWS_144:Replication needs a second bucket in another Region and a provider for it: a disaster-recovery choice for the account, not for this configuration; the bucket is versioned against overwrites and deletes.
  #checkov:skip=CKV_AWS_145:Default encryption follows var.sse_algorithm: SSE-KMS with sse_algorithm = "aws:kms", SSE-S3 by default, the only default encryption with which S3 delivers server access logs (those of the data bucket) into a bucket.
  bucket        = var.logs_bucket_name
  bucket_prefix = var.logs_bucket_name == null ? "${var.name_prefix}-logs-" : null
  force_destroy = var.force_destroy_buckets
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = local.buckets
  bucket   = each.value.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = local.buckets
  bucket   = each.value.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = local.buckets
  bucket   = each.value.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = local.buckets
  bucket   = each.value.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.sse_algorithm
      kms_master_key_id = var.sse_algorithm == "aws:kms" ? var.kms_key_arn : null
    }
    bucket_key_enabled = var.sse_algorithm == "aws:kms"
  }
}

# Only TLS: requests over plain HTTP are refused. The logs bucket also takes the data bucket's
# server access logs from S3's logging service.
data "aws_iam_policy_document" "tls_only" {
  for_each = local.buckets

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [each.value.arn, "${each.value.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  dynamic "statement" {
    for_each = each.key == "logs" && local.data_access_logs ? [1] : []
    content {
      sid       = "S3ServerAccessLogs"
      actions   = ["s3:PutObject"]
      resources = ["${aws_s3_bucket.logs.arn}/${local.data_access_logs_prefix}*"]

      principals {
        type        = "Service"
        identifiers = ["logging.s3.amazonaws.com"]
      }

      condition {
        test     = "ArnLike"
        variable = "aws:SourceArn"
        values   = [aws_s3_bucket.data.arn]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account_id]
      }
    }
  }
}

resource "aws_s3_bucket_policy" "tls_only" {
  for_each = local.buckets
  bucket   = each.value.id
  policy   = data.aws_iam_policy_document.tls_only[each.key].json

  depends_on = [aws_s3_bucket_public_access_block.this]
}

# Who read, wrote or deleted what in the data bucket (expires with the logs, logs_expiration_days).
resource "aws_s3_bucket_logging" "data" {
  count         = local.data_access_logs ? 1 : 0
  bucket        = aws_s3_bucket.data.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = local.data_access_logs_prefix

  depends_on = [aws_s3_bucket_policy.tls_only]
}

resource "aws_s3_bucket_lifecycle_configuration" "data" {
  bucket = aws_s3_bucket.data.id

  # Staged plans are per run; code under stage/code/ is shared by every run with the same
  # runner and is kept.
  rule {
    id     = "expire-staged-plans"
    status = "Enabled"

    filter {
      prefix = "${var.root_prefix}/stage/plans/"
    }

    expiration {
      days = var.stage_plans_expiration_days
    }
  }

  # Spark's commit renames (copy + delete) leave noncurrent versions behind on a versioned bucket.
  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    expiration {
      expired_object_delete_marker = true
    }
  }

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    id     = "expire-logs"
    status = "Enabled"

    filter {}

    expiration {
      days = var.logs_expiration_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}
