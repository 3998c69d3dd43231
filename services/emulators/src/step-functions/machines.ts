import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import { z } from 'zod';
import { writeFileAtomic } from '../aws-json/index.ts';
import { analyzeDefinition, type Definition, type StateInfo } from './definition.ts';

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
  definition: Definition;
  states: Map<string, StateInfo>;
}

export interface MachineEntry extends MachineRuntime {
  definitionText: string;
  creationDate: number;
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
    // Throws with every ASL validation error listed.
    new StateMachine(definition as never);
    const arn = `arn:aws:states:${region}:${accountId}:stateMachine:${spec.name}`;
    if (machines.has(arn)) throw new Error(`State machine ${spec.name} is defined twice`);
    dates[spec.name] ??= Date.now();
    machines.set(arn, {
      arn,
      name: spec.name,
      roleArn: spec.roleArn ?? `arn:aws:iam::${accountId}:role/${spec.name}-role`,
      region,
      definition,
      definitionText,
      states: analyzeDefinition(definition),
      creationDate: dates[spec.name]!,
    });
  }
  await writeFileAtomic(datesFile, JSON.stringify(dates));
  return machines;
}
