/**
 * How the AWS SDK clients are built: once per process, from the environment the AWS CLI and
 * SDKs already use (AWS_REGION, AWS_PROFILE, AWS_ACCESS_KEY_ID, ...), with an endpoint override
 * per service (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_EMR, AWS_ENDPOINT_URL_EMR_SERVERLESS, or
 * AWS_ENDPOINT_URL for all) so the same code talks to AWS, to MinIO or to a loopback server.
 */
import { CREDENTIALS_FIX, URL_WITH_PASSWORD } from "../config/params.js";
import { SparkjobsError } from "../errors.js";

export type AwsService = "S3" | "EMR" | "EMR_SERVERLESS";

export interface AwsClientConfig {
  region: string;
  endpoint?: string;
  /** Keys from the given environment; without them the SDK's default chain (profile, SSO, instance role) applies. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  maxAttempts: number;
  retryMode: "standard";
  /** A service that accepts the connection but never answers must not hang a run. */
  requestHandler: { connectionTimeout: number; requestTimeout: number; throwOnRequestTimeout: true };
}

/** Attempts per call, including the first; the SDK's standard mode backs off exponentially with jitter on throttling, 5xx and network errors. */
export const DEFAULT_MAX_ATTEMPTS = 6;
/** Seconds a call may wait for a connection, and for the answer to go on arriving. */
export const DEFAULT_TIMEOUT_SECONDS = 60;

export function awsClientConfig(service: AwsService, env: NodeJS.ProcessEnv = process.env, region?: string): AwsClientConfig {
  const endpoint = env[`AWS_ENDPOINT_URL_${service}`] ?? env.AWS_ENDPOINT_URL;
  if (endpoint && URL_WITH_PASSWORD.test(endpoint)) {
    const name = env[`AWS_ENDPOINT_URL_${service}`] !== undefined ? `AWS_ENDPOINT_URL_${service}` : "AWS_ENDPOINT_URL";
    throw new SparkjobsError("usage", `${name} has a user and password in it: the endpoint goes into the Spark settings of plans (staged, printed, passed to EMR)`, { fix: CREDENTIALS_FIX });
  }
  const attempts = Number(env.SPARKJOBS_AWS_MAX_ATTEMPTS ?? DEFAULT_MAX_ATTEMPTS);
  const timeout = Number(env.SPARKJOBS_AWS_TIMEOUT_SECONDS ?? DEFAULT_TIMEOUT_SECONDS);
  const timeoutMs = (Number.isFinite(timeout) && timeout > 0 ? timeout : DEFAULT_TIMEOUT_SECONDS) * 1000;
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = env;
  return {
    region: region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1",
    ...(endpoint ? { endpoint } : {}),
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } } : {}),
    maxAttempts: Number.isInteger(attempts) && attempts >= 1 ? attempts : DEFAULT_MAX_ATTEMPTS,
    retryMode: "standard",
    requestHandler: { connectionTimeout: Math.min(timeoutMs, 10_000), requestTimeout: timeoutMs, throwOnRequestTimeout: true },
  };
}
