# Two buckets: "data" holds the sparkjobs root (inputs, <root>/runs/, <root>/stage/code/ and
# <root>/stage/plans/); "logs" holds EMR cluster logs (emr/) and EMR Serverless logs (serverless/).

locals {
  buckets = {
    data = aws_s3_bucket.data
    logs = aws_s3_bucket.logs
  }
  root_uri              = "s3://${aws_s3_bucket.data.bucket}/${var.root_prefix}"
  emr_log_uri           = "s3://${aws_s3_bucket.logs.bucket}/emr/"
  serverless_log_uri    = "s3://${aws_s3_bucket.logs.bucket}/serverless/"
  bucket_arns           = [for b in local.buckets : b.arn]
  bucket_object_arns    = [for b in local.buckets : "${b.arn}/*"]
  customer_kms_key_arns = var.sse_algorithm == "aws:kms" && var.kms_key_arn != null ? [var.kms_key_arn] : []
}

resource "aws_s3_bucket" "data" {
  bucket        = var.data_bucket_name
  bucket_prefix = var.data_bucket_name == null ? "${var.name_prefix}-data-" : null
  force_destroy = var.force_destroy_buckets
}

resource "aws_s3_bucket" "logs" {
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

# Only TLS: requests over plain HTTP are refused.
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
}

resource "aws_s3_bucket_policy" "tls_only" {
  for_each = local.buckets
  bucket   = each.value.id
  policy   = data.aws_iam_policy_document.tls_only[each.key].json

  depends_on = [aws_s3_bucket_public_access_block.this]
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
