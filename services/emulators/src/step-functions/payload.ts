import { StateMachine } from 'aws-local-stepfunctions';

// Payload templates outside a state's own Parameters (a Distributed Map's ItemReader and ResultWriter Parameters,
// its ItemSelector with `$$.Map.Item`), evaluated by aws-local-stepfunctions itself: a one-state Pass machine
// with the template as its Parameters and the context object given. So `.$` paths, `$$` and intrinsic
// functions mean what they mean everywhere else in the emulator.

export async function evaluatePayload(
  template: Record<string, unknown>,
  input: unknown,
  context: Record<string, unknown>,
): Promise<unknown> {
  const machine = new StateMachine(
    { StartAt: 'Evaluate', States: { Evaluate: { Type: 'Pass', Parameters: template, End: true } } } as never,
    { validationOptions: { noValidate: true } },
  );
  return machine.run(input as never, { context: context as never }).result;
}

/** The value at a reference path (`ItemsPath`), by the same means. */
export async function evaluatePath(path: string, input: unknown): Promise<unknown> {
  const machine = new StateMachine(
    { StartAt: 'Evaluate', States: { Evaluate: { Type: 'Pass', InputPath: path, End: true } } } as never,
    { validationOptions: { noValidate: true } },
  );
  return machine.run(input as never).result;
}
