/**
 * AWS SDK errors as SparkjobsErrors: which ones are worth retrying later (unreachable, 12), which
 * are about credentials or permissions (access, 13), and which name something that does not exist.
 */
import { SparkjobsError } from "../errors.js";
import type { AwsService } from "./config.js";

const LABEL: Record<AwsService, string> = { S3: "S3", EMR: "EMR", EMR_SERVERLESS: "EMR Serverless" };

const ACCESS = new Set([
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "AccessDenied",
  "AccessDeniedException",
  "ExpiredToken",
  "ExpiredTokenException",
  "InvalidClientTokenId",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "CredentialsProviderError",
  "MissingAuthenticationToken",
  "AuthorizationHeaderMalformed",
]);

const NETWORK = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "EPIPE", "TimeoutError"]);

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
  $fault?: string;
}

export function errorName(e: unknown): string {
  const err = e as SdkError;
  return err?.code && NETWORK.has(err.code) ? err.code : (err?.name ?? "Error");
}

/** The HTTP status of an SDK error, when the service answered. */
export function httpStatus(e: unknown): number | undefined {
  return (e as SdkError)?.$metadata?.httpStatusCode;
}

/**
 * Turns an SDK error into a SparkjobsError. `service` and `endpoint` name what was called,
 * `what` says what sparkjobs was doing ("reading s3://bucket/key").
 */
export function fromAwsError(e: unknown, service: AwsService, what: string, endpoint: string | undefined): SparkjobsError {
  if (e instanceof SparkjobsError) return e;
  const err = e as SdkError;
  const name = errorName(e);
  const status = httpStatus(e);
  const where = endpoint ? `${LABEL[service]} at ${endpoint}` : LABEL[service];
  const attempts = err?.$metadata?.attempts;
  const detail = `${name}${status ? ` (HTTP ${status})` : ""}: ${err?.message ?? String(e)}`;
  if (ACCESS.has(name) || status === 403) {
    return new SparkjobsError("access", `${where} refused the credentials while ${what}: ${detail}`, {
      fix: "check AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), and that the identity may do this; retrying will not help",
      cause: e,
    });
  }
  if (NETWORK.has(name) || (err?.code && NETWORK.has(err.code)) || (!status && /ECONNREFUSED|ENOTFOUND|socket hang up|connect/i.test(err?.message ?? ""))) {
    return new SparkjobsError("unreachable", `${where} could not be reached while ${what}${attempts ? ` (${attempts} attempts)` : ""}: ${detail}`, {
      fix: `check the endpoint (${endpoint ? `set by AWS_ENDPOINT_URL_${service}` : "the region's default"}), the network and AWS_REGION; this is worth retrying later`,
      cause: e,
    });
  }
  if (status !== undefined && (status >= 500 || status === 429 || /Throttl|SlowDown|TooManyRequests/i.test(name))) {
    return new SparkjobsError("unreachable", `${where} kept failing while ${what}${attempts ? ` (${attempts} attempts, with backoff)` : ""}: ${detail}`, {
      fix: "the service is throttling or failing; retry later, or raise SPARKJOBS_AWS_MAX_ATTEMPTS",
      cause: e,
    });
  }
  return new SparkjobsError("environment", `${where} answered ${detail} while ${what}`, { cause: e });
}
