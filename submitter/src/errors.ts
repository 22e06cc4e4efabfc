/**
 * Errors as data. Every failure the CLI reports is a SparkjobsError: a kind (which picks the
 * exit code), a message, and where it is and how to fix it. cli.ts is the one place that prints
 * them and exits.
 */

/** Documented exit codes (README "Exit codes"); they never change meaning. */
export const EXIT_CODES = {
  ok: 0,
  internal: 1,
  usage: 2,
  definition: 3,
  input: 4,
  runFailed: 5,
  output: 6,
  gate: 7,
  incomplete: 8,
  environment: 9,
  timeout: 10,
  conflict: 11,
  /** A service (S3, EMR, EMR Serverless) could not be reached or kept refusing after retries: worth retrying later. */
  unreachable: 12,
  /** A service refused the credentials or the permission: retrying will not help. */
  access: 13,
  /** Ingest rejected more of a table's rows than the job allows (its quarantine output says which and why). */
  rejected: 14,
  interrupted: 130,
} as const;
export type ErrorKind = Exclude<keyof typeof EXIT_CODES, "ok">;

/**
 * Kinds that a later try of the same submit may get past (the --json error's `retryable`, which
 * orchestrators read): a failure of Spark itself (a lost node, a spot interruption), a run left
 * incomplete, a service that could not be reached, a submit interrupted from outside. A retry with
 * the same run id never runs a complete run again. Every other kind needs a change of input,
 * definition, settings or permissions first. A conflict is retryable when another submit of the
 * run id holds its lock (the retry then reads that run's result), not when another plan owns it.
 */
const RETRYABLE_KINDS: ReadonlySet<ErrorKind> = new Set(["runFailed", "incomplete", "unreachable", "interrupted"]);

export interface Problem {
  /** File the problem is in (job definition, SQL file, Parquet input, ...). */
  file?: string;
  /** Line in that file, when known. */
  line?: number;
  /** Dotted path of the field, or the column name. */
  path?: string;
  message: string;
}

export class SparkjobsError extends Error {
  readonly kind: ErrorKind;
  readonly problems: Problem[];
  readonly fix: string | undefined;
  /** What an orchestrator needs beside the message (a stopped pipeline's steps), in the --json error. */
  readonly details: Record<string, unknown> | undefined;
  /** Whether the same submit may succeed later without a change (see RETRYABLE_KINDS). */
  readonly retryable: boolean;

  constructor(kind: ErrorKind, message: string, options: { problems?: Problem[]; fix?: string; cause?: unknown; details?: Record<string, unknown>; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SparkjobsError";
    this.kind = kind;
    this.problems = options.problems ?? [];
    this.fix = options.fix;
    this.details = options.details;
    this.retryable = options.retryable ?? RETRYABLE_KINDS.has(kind);
  }

  get exitCode(): number {
    return EXIT_CODES[this.kind];
  }

  toJSON() {
    return {
      kind: this.kind,
      exitCode: this.exitCode,
      retryable: this.retryable,
      message: this.message,
      problems: this.problems,
      fix: this.fix ?? null,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

export function formatProblem(p: Problem): string {
  const at = [p.file ? `${p.file}${p.line ? `:${p.line}` : ""}` : undefined, p.path].filter(Boolean).join(": ");
  return at ? `${at}: ${p.message}` : p.message;
}

/** Human-readable text of an error, as the CLI prints it on stderr. */
export function formatError(error: SparkjobsError): string {
  const lines = [`error: ${error.message}`];
  for (const p of error.problems) lines.push(`  - ${formatProblem(p)}`);
  if (error.fix) lines.push(`  fix: ${error.fix}`);
  return lines.join("\n");
}
