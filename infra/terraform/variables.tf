# ---------------------------------------------------------------------------------------------
# General
# ---------------------------------------------------------------------------------------------

variable "region" {
  description = "AWS region. null: from AWS_REGION or the AWS profile."
  type        = string
  default     = null
}

variable "name_prefix" {
  description = "Prefix of every resource name (IAM roles, cluster, application, state machines)."
  type        = string
  default     = "sparkjobs"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "name_prefix: 2-31 of a-z 0-9 -, starting with a letter."
  }
}

variable "tags" {
  description = "Tags for every resource (besides project = sparkjobs)."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------------------------
# S3
# ---------------------------------------------------------------------------------------------

variable "data_bucket_name" {
  description = "Name of the bucket for inputs, runs and staged code. null: <name_prefix>-data-<random suffix>."
  type        = string
  default     = null
}

variable "logs_bucket_name" {
  description = "Name of the bucket for EMR and EMR Serverless logs. null: <name_prefix>-logs-<random suffix>."
  type        = string
  default     = null
}

variable "root_prefix" {
  description = "Key prefix of the sparkjobs root in the data bucket: --root is s3://<data bucket>/<root_prefix>."
  type        = string
  default     = "sparkjobs"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$", var.root_prefix))
    error_message = "root_prefix: a key prefix without leading or trailing slash, e.g. sparkjobs or teams/marketing/sparkjobs."
  }
}

variable "sse_algorithm" {
  description = "Default encryption of both buckets: AES256 (SSE-S3) or aws:kms (SSE-KMS)."
  type        = string
  default     = "AES256"

  validation {
    condition     = contains(["AES256", "aws:kms"], var.sse_algorithm)
    error_message = "sse_algorithm: AES256 or aws:kms."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for sse_algorithm = aws:kms (the roles here get to use it). null: the AWS managed key aws/s3."
  type        = string
  default     = null
}

variable "stage_plans_expiration_days" {
  description = "Days after which staged run plans (<root>/stage/plans/) expire. `sparkjobs validate` of an older run cannot check its quality gates any more."
  type        = number
  default     = 90

  validation {
    condition     = var.stage_plans_expiration_days >= 1
    error_message = "stage_plans_expiration_days: at least 1."
  }
}

variable "logs_expiration_days" {
  description = "Days after which EMR and EMR Serverless logs expire."
  type        = number
  default     = 30

  validation {
    condition     = var.logs_expiration_days >= 1
    error_message = "logs_expiration_days: at least 1."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which overwritten or deleted object versions expire (both buckets are versioned)."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days: at least 1."
  }
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Days after which unfinished multipart uploads are aborted (the submitter uploads large files in parts)."
  type        = number
  default     = 2

  validation {
    condition     = var.abort_incomplete_multipart_upload_days >= 1
    error_message = "abort_incomplete_multipart_upload_days: at least 1."
  }
}

variable "force_destroy_buckets" {
  description = "Let `terraform destroy` delete the buckets with everything in them."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------------------------
# EMR on EC2
# ---------------------------------------------------------------------------------------------

variable "release_label" {
  description = "EMR release of the cluster and of the EMR Serverless application. emr-7.9.0 is the first with Spark 3.5.5, the version of the pinned pyspark."
  type        = string
  default     = "emr-7.9.0"

  validation {
    condition     = can(regex("^emr-7\\.[0-9]+\\.[0-9]+$", var.release_label))
    error_message = "release_label: an emr-7.x release (Spark 3.5), like emr-7.9.0."
  }
}

variable "create_emr_cluster" {
  description = "Create the long-running EMR cluster for the emr target. It bills per second from start until terminated."
  type        = bool
  default     = false
}

variable "subnet_id" {
  description = "Subnet of the EMR cluster (required with create_emr_cluster). It needs a route to S3 and to the EMR API, and the tag for-use-with-amazon-emr-managed-policies = true (AmazonEMRServicePolicy_v2)."
  type        = string
  default     = null
}

variable "key_name" {
  description = "EC2 key pair for SSH to the primary node. null: none."
  type        = string
  default     = null
}

variable "master_instance_type" {
  description = "Instance type of the primary node."
  type        = string
  default     = "m5.xlarge"
}

variable "core_instance_type" {
  description = "Instance type of the core nodes."
  type        = string
  default     = "m5.xlarge"
}

variable "core_instance_count" {
  description = "Number of core nodes."
  type        = number
  default     = 2

  validation {
    condition     = var.core_instance_count >= 1
    error_message = "core_instance_count: at least 1."
  }
}

variable "core_ebs_size_gb" {
  description = "gp3 volume size (GiB) on each core node, for HDFS and Spark's shuffle and spill."
  type        = number
  default     = 64
}

variable "step_concurrency_level" {
  description = "Steps the cluster runs at once. sparkjobs submits steps with ActionOnFailure CONTINUE, the only value EMR allows when this is above 1."
  type        = number
  default     = 1

  validation {
    condition     = var.step_concurrency_level >= 1 && var.step_concurrency_level <= 256
    error_message = "step_concurrency_level: 1 to 256."
  }
}

variable "idle_timeout_seconds" {
  description = "The cluster terminates itself after this long without running steps (auto-termination policy)."
  type        = number
  default     = 3600

  validation {
    condition     = var.idle_timeout_seconds >= 60 && var.idle_timeout_seconds <= 604800
    error_message = "idle_timeout_seconds: 60 (1 minute) to 604800 (7 days)."
  }
}

variable "enable_runtime_roles" {
  description = "Run steps under the EMR runtime role (ExecutionRoleArn on AddJobFlowSteps): the cluster gets a security configuration that allows it, and the state machine passes the role."
  type        = bool
  default     = true
}

# ---------------------------------------------------------------------------------------------
# EMR Serverless
# ---------------------------------------------------------------------------------------------

variable "create_emr_serverless_application" {
  description = "Create the EMR Serverless application for the emr-serverless target (it costs nothing while stopped)."
  type        = bool
  default     = true
}

variable "serverless_architecture" {
  description = "CPU architecture of the EMR Serverless workers: X86_64 or ARM64."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.serverless_architecture)
    error_message = "serverless_architecture: X86_64 or ARM64."
  }
}

variable "serverless_idle_timeout_minutes" {
  description = "The application stops after this many minutes without job runs."
  type        = number
  default     = 15

  validation {
    condition     = var.serverless_idle_timeout_minutes >= 1 && var.serverless_idle_timeout_minutes <= 10080
    error_message = "serverless_idle_timeout_minutes: 1 to 10080."
  }
}

variable "serverless_max_cpu" {
  description = "Maximum vCPU of all the application's workers together, e.g. \"16 vCPU\"."
  type        = string
  default     = "16 vCPU"
}

variable "serverless_max_memory" {
  description = "Maximum memory of all the application's workers together, e.g. \"64 GB\"."
  type        = string
  default     = "64 GB"
}

variable "serverless_max_disk" {
  description = "Maximum disk of all the application's workers together, e.g. \"200 GB\"."
  type        = string
  default     = "200 GB"
}

variable "serverless_subnet_ids" {
  description = "Subnets for the application's workers. Empty: no VPC (jobs still reach S3 in the same region)."
  type        = list(string)
  default     = []
}

variable "serverless_security_group_ids" {
  description = "Security groups for the application's workers (with serverless_subnet_ids)."
  type        = list(string)
  default     = []
}

# ---------------------------------------------------------------------------------------------
# Step Functions
# ---------------------------------------------------------------------------------------------

variable "create_state_machines" {
  description = "Create the two Step Functions state machines (EMR step, EMR Serverless job run)."
  type        = bool
  default     = true
}

variable "state_machine_timeout_seconds" {
  description = "TimeoutSeconds of both state machines: an execution still running after this long fails with States.Timeout. Default 86400 (24 hours); 300 (5 minutes) to 604800 (7 days). It also sets how often the emr-step machine polls a step it follows (every 60 seconds up to about 40 hours)."
  type        = number
  default     = 86400

  validation {
    condition     = var.state_machine_timeout_seconds >= 300 && var.state_machine_timeout_seconds <= 604800 && floor(var.state_machine_timeout_seconds) == var.state_machine_timeout_seconds
    error_message = "state_machine_timeout_seconds: a whole number of seconds from 300 (5 minutes) to 604800 (7 days)."
  }
}

variable "emr_cluster_arns" {
  description = "EMR clusters made elsewhere that the emr-step state machine may list, add, describe and cancel steps on (arn:<partition>:elasticmapreduce:<region>:<account>:cluster/j-...). The cluster of create_emr_cluster is always allowed, and so are clusters tagged emr_cluster_tag_key = name_prefix; any other cluster id in an execution's input fails with AccessDenied."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.emr_cluster_arns : can(regex("^arn:[a-z-]+:elasticmapreduce:[a-z0-9-]+:[0-9]{12}:cluster/j-[0-9A-Z]+$", a))])
    error_message = "emr_cluster_arns: cluster ARNs, arn:aws:elasticmapreduce:<region>:<account>:cluster/j-..."
  }
}

variable "emr_cluster_tag_key" {
  description = "Tag key that lets the emr-step state machine use a cluster: a cluster of this account and region tagged <emr_cluster_tag_key> = <name_prefix> is allowed (the cluster of create_emr_cluster carries the tag). Whoever may tag clusters (elasticmapreduce:AddTags) may thereby allow one. null: only the clusters listed by ARN."
  type        = string
  default     = "sparkjobs:steps"

  validation {
    condition     = var.emr_cluster_tag_key == null || can(regex("^[A-Za-z0-9 _.:/=+@-]{1,128}$", var.emr_cluster_tag_key))
    error_message = "emr_cluster_tag_key: null or 1-128 characters of letters, digits, spaces and _ . : / = + - @."
  }
}
