// What the emulator needs to know about a definition beyond what aws-local-stepfunctions runs: every state's type
// and "lane" (the root, a Parallel branch, or a Map iterator: used for history's previousEventId), and each Task's
// resource, so history events can be typed (Lambda vs. service integration, see task-events.ts) and Tasks
// overridden by name.

export type StateType = 'Task' | 'Parallel' | 'Map' | 'Pass' | 'Wait' | 'Choice' | 'Succeed' | 'Fail';

export interface StateInfo {
  name: string;
  type: StateType;
  /** `''` for the root; `P[0]`, `P[0]/Q[1]`, `M` ... for nested branches and iterators. */
  lane: string;
  /** Parallel: one lane per branch. Map: the iterator's lane. */
  childLanes: string[];
  /** Parallel and Map states enclosing this one, innermost last. */
  ancestors: string[];
  /** Task only. */
  resource?: string;
  timeoutSeconds?: number;
  /** A Distributed Map: its items run as child executions (map-run.ts), not inside this execution. */
  distributed?: boolean;
}

export interface Definition {
  StartAt: string;
  States: Record<string, Record<string, unknown>>;
  TimeoutSeconds?: number;
  QueryLanguage?: string;
  [key: string]: unknown;
}

/**
 * Maps every state, at any depth, by name. State names are unique across a whole state machine (Parallel branches
 * and Map iterators included), which is also what lets aws-local-stepfunctions override Tasks by name.
 */
export function analyzeDefinition(definition: Definition): Map<string, StateInfo> {
  const states = new Map<string, StateInfo>();
  const visit = (machine: Pick<Definition, 'States'>, lane: string, ancestors: string[]) => {
    for (const [name, state] of Object.entries(machine.States)) {
      if (states.has(name)) throw new Error(`State name "${name}" is used more than once in the definition`);
      const type = state.Type as StateType;
      const info: StateInfo = { name, type, lane, childLanes: [], ancestors };
      if (type === 'Task') {
        info.resource = String(state.Resource);
        if (typeof state.TimeoutSeconds === 'number') info.timeoutSeconds = state.TimeoutSeconds;
      }
      states.set(name, info);
      const prefix = lane ? `${lane}/` : '';
      if (type === 'Parallel' && Array.isArray(state.Branches)) {
        (state.Branches as Definition[]).forEach((branch, index) => {
          const childLane = `${prefix}${name}[${index}]`;
          info.childLanes.push(childLane);
          visit(branch, childLane, [...ancestors, name]);
        });
      }
      if (type === 'Map' && isDistributedMap(state)) {
        info.distributed = true;
      } else if (type === 'Map') {
        const iterator = (state.ItemProcessor ?? state.Iterator) as Definition | undefined;
        if (iterator) {
          const childLane = `${prefix}${name}`;
          info.childLanes.push(childLane);
          visit(iterator, childLane, [...ancestors, name]);
        }
      }
    }
  };
  visit(definition, '', []);
  return states;
}

/** A Map state whose ItemProcessor runs in DISTRIBUTED mode. */
export function isDistributedMap(state: Record<string, unknown>): boolean {
  const processor = state.ItemProcessor as { ProcessorConfig?: { Mode?: unknown } } | undefined;
  return state.Type === 'Map' && processor?.ProcessorConfig?.Mode === 'DISTRIBUTED';
}

/** A Distributed Map state, the fields the map run reads. */
export interface DistributedMapState {
  ItemReader?: {
    Resource: string;
    Parameters?: Record<string, unknown>;
    ReaderConfig?: { InputType?: string; MaxItems?: number };
  };
  ItemsPath?: string;
  ItemSelector?: Record<string, unknown>;
  ItemProcessor: Definition & { ProcessorConfig: { Mode: 'DISTRIBUTED'; ExecutionType?: string } };
  MaxConcurrency?: number;
  ToleratedFailurePercentage?: number;
  ToleratedFailureCount?: number;
  Label?: string;
  ResultWriter?: { Resource: string; Parameters: Record<string, unknown> };
}

/** Every Distributed Map state, at any depth, by name. */
export function distributedMaps(definition: Definition): Map<string, DistributedMapState> {
  const found = new Map<string, DistributedMapState>();
  const visit = (machine: Pick<Definition, 'States'>) => {
    for (const [name, state] of Object.entries(machine.States)) {
      if (isDistributedMap(state)) found.set(name, state as unknown as DistributedMapState);
      if (state.Type === 'Parallel' && Array.isArray(state.Branches))
        (state.Branches as Definition[]).forEach(visit);
    }
  };
  visit(definition);
  return found;
}

/** The fields a Map state shares with a Task: where its input comes from and where its result goes. */
const mapFieldsKeptOnTask = [
  'Comment',
  'InputPath',
  'ResultSelector',
  'ResultPath',
  'OutputPath',
  'Retry',
  'Catch',
  'Next',
  'End',
];

/**
 * The definition as aws-local-stepfunctions runs it: each Distributed Map becomes a Task of the same name (with
 * the Map's paths, Retry, Catch and transition), which the emulator overrides with the map run. The library
 * runs inline Maps only, and would give a Task without TimeoutSeconds 60 s: a map run gets weeks.
 */
export function libraryDefinition(definition: Definition): Definition {
  const rewrite = (machine: Pick<Definition, 'States'>): Record<string, Record<string, unknown>> =>
    Object.fromEntries(
      Object.entries(machine.States).map(([name, state]) => {
        if (isDistributedMap(state)) {
          const task: Record<string, unknown> = {
            Type: 'Task',
            Resource: 'arn:aws:states:::distributed-map',
            // As long as a Node timer can wait (24.8 days): the state machine's own timeout still applies.
            TimeoutSeconds: 2_147_483,
          };
          for (const field of mapFieldsKeptOnTask) if (field in state) task[field] = state[field];
          return [name, task];
        }
        if (state.Type === 'Parallel' && Array.isArray(state.Branches)) {
          return [
            name,
            {
              ...state,
              Branches: (state.Branches as Definition[]).map((branch) => ({
                ...branch,
                States: rewrite(branch),
              })),
            },
          ];
        }
        return [name, state];
      }),
    );
  return { ...definition, States: rewrite(definition) };
}
