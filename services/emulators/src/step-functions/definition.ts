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
      if (type === 'Map') {
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
