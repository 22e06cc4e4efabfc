/**
 * How a failed AWS request becomes a Step Functions error name.
 *
 * For AWS SDK integrations (`arn:aws:states:::aws-sdk:<service>:<action>`) the Step Functions
 * documentation gives the rule: `<ServiceName>.<ErrorName>`, both in PascalCase, and always with
 * the Exception suffix, added when the service's own name has none (S3's BucketAlreadyExists is
 * S3.BucketAlreadyExistsException). So EMR's InvalidRequestException from aws-sdk:emr is
 * Emr.InvalidRequestException, its InternalServerError Emr.InternalServerErrorException.
 *
 * The optimized integrations (elasticmapreduce:addStep.sync, emr-serverless:startJobRun.sync)
 * name their errors with a prefix of their own that the documentation does not list for EMR or
 * EMR Serverless: the prefix is the handler's to choose (tasks-emr.ts, tasks-emr-serverless.ts say
 * which, and why).
 *
 * A request that got no answer from the service (refused connection, reset socket, timeout) is
 * `<prefix>.SdkClientException`, as Step Functions names the Lambda client's own failures.
 */
import { StatesError } from "./errors.js";

export function withExceptionSuffix(name: string): string {
  return name.endsWith("Exception") ? name : `${name}Exception`;
}

/** A service's answer carries its HTTP status; a request that never got one does not. */
function answered(e: unknown): e is Error & { $metadata: { httpStatusCode: number } } {
  return e instanceof Error && typeof (e as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode === "number";
}

export function awsError(prefix: string, e: unknown): StatesError {
  if (answered(e)) return new StatesError(`${prefix}.${withExceptionSuffix(e.name)}`, e.message);
  const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new StatesError(`${prefix}.SdkClientException`, message);
}

/** An SDK response as Step Functions hands it on: without the SDK's $metadata, timestamps as ISO-8601 strings. */
export function responseJson(response: object): unknown {
  const { $metadata: _metadata, ...rest } = response as Record<string, unknown>;
  return JSON.parse(JSON.stringify(rest));
}
