import { eventData } from './history.ts';

// How Step Functions records a Task in history, as data. A Lambda function ARN gives `LambdaFunction*` events;
// a service integration (`arn:aws:states:::dynamodb:putItem`, `...:::lambda:invoke`) gives `Task*` events that
// name the service as `resourceType` and the action (with any `.sync`/`.waitForTaskToken` suffix) as
// `resource` on every event. The two differ only in the names, the identity fields and how the input is shown.

export type TaskKind =
  { kind: 'lambda'; resource: string } | { kind: 'service'; resourceType: string; resource: string };

export type TaskPhase = 'Scheduled' | 'Started' | 'Succeeded' | 'Failed' | 'TimedOut';

interface TaskEventKind {
  /** Event type prefix: `LambdaFunction` + phase, `Task` + phase. */
  typePrefix: string;
  /** Details key stem: `lambdaFunction` + phase + `EventDetails`. */
  detailsStem: string;
  /** Phases recorded without details. */
  bare: readonly TaskPhase[];
  /** Fields every detailed event carries. */
  identity(kind: TaskKind): Record<string, unknown>;
  /** How the Scheduled event shows the task's effective input. */
  scheduled(kind: TaskKind, input: unknown, region: string): Record<string, unknown>;
}

export const taskEventKinds: Record<TaskKind['kind'], TaskEventKind> = {
  lambda: {
    typePrefix: 'LambdaFunction',
    detailsStem: 'lambdaFunction',
    bare: ['Started'],
    identity: () => ({}),
    scheduled: (kind, input) => ({ resource: kind.resource, ...eventData('input', input) }),
  },
  service: {
    typePrefix: 'Task',
    detailsStem: 'task',
    bare: [],
    identity: (kind) =>
      kind.kind === 'service' ? { resourceType: kind.resourceType, resource: kind.resource } : {},
    scheduled: (_kind, input, region) => ({ region, parameters: JSON.stringify(input ?? null) }),
  },
};

/** The history event for `phase` of a task of `kind`, with `fields` in its details. */
export function taskEvent(
  kind: TaskKind,
  phase: TaskPhase,
  fields: Record<string, unknown> = {},
): { type: string; details: Record<string, unknown> } {
  const spec = taskEventKinds[kind.kind];
  const type = `${spec.typePrefix}${phase}`;
  if (spec.bare.includes(phase)) return { type, details: {} };
  return {
    type,
    details: { [`${spec.detailsStem}${phase}EventDetails`]: { ...spec.identity(kind), ...fields } },
  };
}

/** The Scheduled event: the effective input, and the task's timeout when it has one. */
export function scheduledEvent(
  kind: TaskKind,
  input: unknown,
  region: string,
  timeoutSeconds: number | undefined,
): { type: string; details: Record<string, unknown> } {
  return taskEvent(kind, 'Scheduled', {
    ...taskEventKinds[kind.kind].scheduled(kind, input, region),
    ...(timeoutSeconds === undefined ? {} : { timeoutInSeconds: timeoutSeconds }),
  });
}

/** What kind of task `resource` (a Task's `Resource`) is, as history records it. */
export function taskKind(resource: string): TaskKind {
  if (/^arn:aws[\w-]*:lambda:[\w-]+:\d{12}:function:/.test(resource)) return { kind: 'lambda', resource };
  const integration = resource.match(/^arn:aws[\w-]*:states:[\w-]*:\d*:([\w-]+):(.+)$/);
  if (integration) return { kind: 'service', resourceType: integration[1]!, resource: integration[2]! };
  return { kind: 'service', resourceType: 'unknown', resource };
}

/**
 * The `cause` Step Functions reports for a failed task: Lambda failures (a function ARN or `lambda:invoke`)
 * arrive as the runtime's error payload, JSON; other integrations' as the error's text.
 */
export function taskFailureCause(kind: TaskKind, name: string, message: string): string {
  const lambda =
    kind.kind === 'lambda' || (kind.resourceType === 'lambda' && kind.resource.startsWith('invoke'));
  return lambda ? JSON.stringify({ errorType: name, errorMessage: message, trace: [] }) : message;
}
