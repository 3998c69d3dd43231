import type { HistoryEvent } from '@aws-sdk/client-sfn';

import type { AslBranch, AslState, ExecutionStatus, PipelineDefinition, PipelineStep } from '@mc-vision/core';

// Per-step progress read from an execution's history (the real Step Functions event types). Events of one
// state are chained by `previousEventId` back to its `…StateEntered` event, which keeps Parallel branches
// apart; each attempt of a task is one `…Scheduled` event; a failure followed by another state's entry is a
// Catch at work.

/** The steps a person follows, and the states that only ever lead to the execution failing. */
export interface PipelineShape {
  steps: string[];
  failurePath: ReadonlySet<string>;
}

function allStates(branch: AslBranch, into = new Map<string, AslState>()): Map<string, AslState> {
  for (const [name, state] of Object.entries(branch.States)) {
    into.set(name, state);
    if (state.Type === 'Parallel') state.Branches.forEach((b) => allStates(b, into));
  }
  return into;
}

function successors(state: AslState): string[] {
  if (state.Type === 'Fail') return [];
  if (state.Type === 'Choice') return [...state.Choices.map((choice) => choice.Next), state.Default];
  const next = state.Next ? [state.Next] : [];
  const caught = state.Type === 'Task' ? (state.Catch ?? []).map((c) => c.Next) : [];
  return [...next, ...caught];
}

/** The task states worth reporting (in definition order), leaving out the ones that only report a failure. */
export function pipelineShape(definition: PipelineDefinition): PipelineShape {
  const states = allStates(definition);
  // A state is on the failure path when it fails the execution or every way out of it does.
  const failurePath = new Set<string>();
  for (let changed = true; changed;) {
    changed = false;
    for (const [name, state] of states) {
      if (failurePath.has(name)) continue;
      const next = successors(state);
      const doomed =
        state.Type === 'Fail' ||
        (!('End' in state && state.End) && next.length > 0 && next.every((n) => failurePath.has(n)));
      if (doomed) {
        failurePath.add(name);
        changed = true;
      }
    }
  }
  const steps = [...states]
    .filter(([name, s]) => s.Type === 'Task' && !failurePath.has(name))
    .map(([n]) => n);
  return { steps, failurePath };
}

const attemptTypes = new Set(['LambdaFunctionScheduled', 'TaskScheduled']);
const successTypes = new Set(['LambdaFunctionSucceeded', 'TaskSucceeded']);
const failureTypes = new Set([
  'LambdaFunctionFailed',
  'LambdaFunctionTimedOut',
  'LambdaFunctionScheduleFailed',
  'LambdaFunctionStartFailed',
  'TaskFailed',
  'TaskTimedOut',
  'TaskStartFailed',
  'TaskSubmitFailed',
]);

const isEntered = (e: HistoryEvent) => e.type?.endsWith('StateEntered') ?? false;
const isExited = (e: HistoryEvent) => e.type?.endsWith('StateExited') ?? false;

/** `{error, cause}` of a failure event, whichever `…EventDetails` member carries it. */
function failureOf(event: HistoryEvent): { code: string; message: string } {
  const details = Object.entries(event).find(
    ([key, value]) => key.endsWith('EventDetails') && value && typeof value === 'object',
  )?.[1] as { error?: string; cause?: string } | undefined;
  return { code: details?.error ?? event.type ?? 'Error', message: causeMessage(details?.cause) };
}

/** Lambda reports `{errorType, errorMessage, trace}` as the cause: keep the message, never the stack. */
export function causeMessage(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed?.errorMessage === 'string') return parsed.errorMessage.slice(0, 500);
  } catch {
    // a plain message
  }
  return cause.slice(0, 500);
}

const iso = (date: Date | undefined) => date?.toISOString();

export function summarizeSteps(
  shape: PipelineShape,
  events: readonly HistoryEvent[],
  executionStatus: ExecutionStatus,
): PipelineStep[] {
  const byId = new Map(events.map((e) => [e.id, e]));
  const stateOf = new Map<number, string | undefined>();
  const resolve = (event: HistoryEvent): string | undefined => {
    const id = event.id!;
    if (stateOf.has(id)) return stateOf.get(id);
    const previous = event.previousEventId ? byId.get(event.previousEventId) : undefined;
    const state = isEntered(event) ? event.stateEnteredEventDetails?.name : previous && resolve(previous);
    stateOf.set(id, state);
    return state;
  };
  // Walk in id order so a chain's earlier links are already resolved (no deep recursion).
  const ordered = [...events].sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
  ordered.forEach(resolve);

  return shape.steps.map((name): PipelineStep => {
    const own = ordered.filter((e) => stateOf.get(e.id!) === name);
    const entered = own.find(isEntered);
    if (!entered) return { name, status: 'pending', attempts: 0 };
    const attempts = own.filter((e) => attemptTypes.has(e.type!)).length;
    const outcome = own.findLast((e) => successTypes.has(e.type!) || failureTypes.has(e.type!));
    const exited = own.find(isExited);
    const startedAt = iso(entered.timestamp);
    const base = { name, attempts, ...(startedAt ? { startedAt } : {}) };

    if (outcome && failureTypes.has(outcome.type!)) {
      const error = failureOf(outcome);
      const endedAt = iso(outcome.timestamp);
      // Another state entered straight from this failure: a Catch took it.
      const catcher = ordered.find(
        (e) => isEntered(e) && e.previousEventId !== undefined && stateOf.get(e.previousEventId) === name,
      );
      const catchTarget = catcher?.stateEnteredEventDetails?.name;
      if (catchTarget || exited) {
        const status = catchTarget && shape.failurePath.has(catchTarget) ? 'failed' : 'caught';
        return { ...base, status, error, ...(endedAt ? { endedAt } : {}) };
      }
      // Not caught (yet): a retry is waiting while the execution runs; otherwise this failure ended it.
      if (executionStatus === 'RUNNING') return { ...base, status: 'running', error };
      return { ...base, status: 'failed', error, ...(endedAt ? { endedAt } : {}) };
    }
    if (exited) {
      const endedAt = iso(exited.timestamp);
      return { ...base, status: 'succeeded', ...(endedAt ? { endedAt } : {}) };
    }
    if (executionStatus === 'RUNNING') return { ...base, status: 'running' };
    // The execution stopped (timed out, aborted) while this step was still at work.
    return {
      ...base,
      status: 'failed',
      error: { code: `States.${executionStatus}`, message: 'the execution stopped' },
    };
  });
}
