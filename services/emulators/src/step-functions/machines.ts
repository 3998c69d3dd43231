import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import { z } from 'zod';
import { writeFileAtomic } from '../aws-json/index.ts';
import {
  analyzeDefinition,
  distributedMaps,
  libraryDefinition,
  type Definition,
  type DistributedMapState,
  type StateInfo,
} from './definition.ts';

// The state machines the server was started with: validated once, with ARNs, roles and creation dates (which
// survive restarts, as a deployed state machine's would).

export interface StateMachineSpec {
  name: string;
  /** Amazon States Language (JSONPath), as an object or as the JSON text. */
  definition: object | string;
  roleArn?: string;
}

/** What a run needs of its state machine. */
export interface MachineRuntime {
  arn: string;
  name: string;
  roleArn: string;
  region: string;
  /** As aws-local-stepfunctions runs it: Distributed Maps are Tasks the emulator overrides (libraryDefinition). */
  definition: Definition;
  states: Map<string, StateInfo>;
  /** Its Distributed Map states, by name. */
  distributedMaps: Map<string, DistributedMapState>;
}

export interface MachineEntry extends MachineRuntime {
  definitionText: string;
  creationDate: number;
  /**
   * For the state machine a Distributed Map runs its items in (`<parent>/<label>`): which map it is. Such a
   * machine is not listed, and StartExecution refuses it, as in AWS.
   */
  mapChild?: { parentArn: string; stateName: string; label: string };
}

/** A Distributed Map's label: its `Label`, else its state name (what its child machine and map runs are named by). */
export const mapLabel = (stateName: string, state: DistributedMapState) => state.Label ?? stateName;

/** A machine's runtime view; throws with every ASL validation error listed. */
function machineEntry(
  arn: string,
  name: string,
  definition: Definition,
  definitionText: string,
  roleArn: string,
  region: string,
  creationDate: number,
): MachineEntry {
  const runnable = libraryDefinition(definition);
  new StateMachine(runnable as never);
  return {
    arn,
    name,
    roleArn,
    region,
    definition: runnable,
    definitionText,
    states: analyzeDefinition(definition),
    distributedMaps: distributedMaps(definition),
    creationDate,
  };
}

export async function loadMachines(
  specs: StateMachineSpec[],
  dataDir: string,
  region: string,
  accountId: string,
): Promise<Map<string, MachineEntry>> {
  const datesFile = join(dataDir, 'state-machines.json');
  let dates: Record<string, number>;
  try {
    dates = z.record(z.string(), z.number()).parse(JSON.parse(await readFile(datesFile, 'utf8')));
  } catch {
    dates = {};
  }
  const machines = new Map<string, MachineEntry>();
  for (const spec of specs) {
    const definitionText =
      typeof spec.definition === 'string' ? spec.definition : JSON.stringify(spec.definition);
    const definition = JSON.parse(definitionText) as Definition;
    if (definition.QueryLanguage === 'JSONata') {
      throw new Error(
        `State machine ${spec.name}: JSONata is not supported by aws-local-stepfunctions; use JSONPath`,
      );
    }
    const arn = `arn:aws:states:${region}:${accountId}:stateMachine:${spec.name}`;
    if (machines.has(arn)) throw new Error(`State machine ${spec.name} is defined twice`);
    dates[spec.name] ??= Date.now();
    const roleArn = spec.roleArn ?? `arn:aws:iam::${accountId}:role/${spec.name}-role`;
    const entry = machineEntry(
      arn,
      spec.name,
      definition,
      definitionText,
      roleArn,
      region,
      dates[spec.name]!,
    );
    machines.set(arn, entry);
    // Each Distributed Map runs its items as executions of a state machine of its own: `<name>/<label>`.
    for (const [stateName, map] of entry.distributedMaps) {
      const label = mapLabel(stateName, map);
      const { ProcessorConfig: _config, ...processor } = map.ItemProcessor;
      const childArn = `${arn}/${label}`;
      machines.set(childArn, {
        ...machineEntry(
          childArn,
          `${spec.name}/${label}`,
          processor,
          JSON.stringify(processor),
          roleArn,
          region,
          entry.creationDate,
        ),
        mapChild: { parentArn: arn, stateName, label },
      });
    }
  }
  await writeFileAtomic(datesFile, JSON.stringify(dates));
  return machines;
}
