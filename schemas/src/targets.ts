/**
 * Where a run goes: the settings of each target that are files rather than flags. A transient
 * EMR cluster is described in YAML (sparkjobs run --target emr --transient-cluster <file>).
 */
import { z } from "zod";

const s3Uri = z.string().regex(/^s3[an]?:\/\/[^/]+(\/.*)?$/, "an s3:// URI (s3://bucket/prefix)");

export const transientCluster = z.strictObject({
  /** EMR release; emr-7.9.0 is the first with Spark 3.5.5, the pinned pyspark's version. */
  releaseLabel: z.string().regex(/^emr-\d+\.\d+\.\d+$/, "an EMR release label like emr-7.9.0").default("emr-7.9.0"),
  /** Where EMR writes step and container logs; sparkjobs reads failures from there. */
  logUri: s3Uri,
  serviceRole: z.string().min(1).default("EMR_DefaultRole"),
  jobFlowRole: z.string().min(1).default("EMR_EC2_DefaultRole"),
  primaryInstanceType: z.string().min(1).default("m5.xlarge"),
  coreInstanceType: z.string().min(1).default("m5.xlarge"),
  coreInstanceCount: z.number().int().min(0).max(500).default(2),
  subnetId: z.string().optional(),
  /** Needed for runtime roles (--execution-role-arn). */
  securityConfiguration: z.string().optional(),
});
export type TransientCluster = z.infer<typeof transientCluster>;
