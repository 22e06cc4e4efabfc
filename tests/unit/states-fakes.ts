/**
 * Task handlers for the state machine interpreter's unit tests: each answers from a script and
 * remembers the arguments it was called with.
 */
import { StatesError } from "../fakes/states/errors.js";
import type { TaskHandler } from "../fakes/states/types.js";

export const RESOURCE = "arn:aws:states:::test:call";

/** A task that answers each call with the next entry of `answers` (the last one again after that); an entry that is a StatesError is thrown. */
export function scripted(answers: unknown[], resource = RESOURCE): { handler: TaskHandler; calls: unknown[] } {
  const calls: unknown[] = [];
  return {
    calls,
    handler: {
      handles: (r) => r === resource,
      async run(_r, args, ctx) {
        calls.push(args);
        const answer = answers[Math.min(calls.length - 1, answers.length - 1)];
        ctx.call({ operation: "Call", outcome: answer instanceof StatesError ? answer.error : "ok" });
        if (answer instanceof StatesError) throw answer;
        return answer;
      },
    },
  };
}

/** Random numbers from a list, in turn. */
export function randoms(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}
