import type { TerraformJson } from './helpers';

// What every IAM document may contain, checked over the synthesized JSON (the checks tfsec made, and some
// Trivy's checks bundle no longer runs), and `isAllowed`: IAM's matching, to evaluate what a policy grants.

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export interface PolicyDocumentAt {
  /** `<resource type>.<address>.<attribute>` */
  where: string;
  statements: PolicyStatement[];
}

/** Every IAM-style JSON document in a stack: role trust and inline policies, managed, bucket and key policies. */
export function policyDocuments(json: TerraformJson): PolicyDocumentAt[] {
  const fields: [string, string][] = [
    ['aws_iam_role', 'assume_role_policy'],
    ['aws_iam_role_policy', 'policy'],
    ['aws_iam_policy', 'policy'],
    ['aws_s3_bucket_policy', 'policy'],
    ['aws_kms_key', 'policy'],
    ['aws_sns_topic_policy', 'policy'],
    ['aws_ecr_repository_policy', 'policy'],
  ];
  return fields.flatMap(([type, attribute]) =>
    Object.entries(json.resource?.[type] ?? {}).flatMap(([address, config]) => {
      const text = config[attribute];
      if (typeof text !== 'string') return [];
      const document = JSON.parse(text) as { Statement: PolicyStatement | PolicyStatement[] };
      const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
      return [{ where: `${type}.${address}.${attribute}`, statements }];
    }),
  );
}

export const asList = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** `*`, `s3:*`, `s3:Get*`, `s3:*Object`, `s3:Get?bject`: anything that is not one named action. */
export function isWildcardAction(action: string): boolean {
  return /[*?]/.test(action);
}

/** A Deny of every action of a service over plain HTTP: the TLS-only guard, the one wildcard allowed. */
function isInsecureTransportDeny(statement: PolicyStatement): boolean {
  return statement.Effect === 'Deny' && statement.Condition?.Bool?.['aws:SecureTransport'] === 'false';
}

/** Problems with one document's statements; empty when it is least-privilege by these rules. */
export function wildcardProblems(document: PolicyDocumentAt): string[] {
  return document.statements.flatMap((statement, index) => {
    const at = `${document.where} statement ${statement.Sid ?? index}`;
    const problems: string[] = [];
    if (statement.NotAction !== undefined) problems.push(`${at}: NotAction grants everything else`);
    const wildcards = asList(statement.Action).filter(isWildcardAction);
    if (wildcards.length > 0 && !isInsecureTransportDeny(statement)) {
      problems.push(`${at}: wildcard action ${wildcards.join(', ')}`);
    }
    if (statement.Effect === 'Allow' && JSON.stringify(statement.Principal ?? null).includes('"*"')) {
      problems.push(`${at}: allows any principal`);
    }
    return problems;
  });
}

/** What a request carries into IAM's evaluation: the action, the resource ARN and the condition keys. */
export interface AuthorizationRequest {
  action: string;
  resource: string;
  context?: Record<string, string | string[]>;
}

/** IAM's wildcard matching: `*` any run of characters, `?` one character, nothing else special. */
function globMatches(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(value);
}

/** The condition operators the project's policies use, with IAM's semantics for missing keys and sets. */
function conditionHolds(
  operator: string,
  key: string,
  expected: unknown,
  context: AuthorizationRequest['context'],
) {
  const wanted = asList(expected as string | string[]).map(String);
  const entry = Object.entries(context ?? {}).find(([k]) => k.toLowerCase() === key.toLowerCase());
  const actual = entry === undefined ? undefined : asList(entry[1]);
  const [qualifier, base] = operator.includes(':') ? operator.split(':') : [undefined, operator];
  const test = (value: string) =>
    wanted.some((w) =>
      base === 'StringLike' ? globMatches(w, value) : base === 'Bool' ? w === value : w === value,
    );
  if (base !== 'StringEquals' && base !== 'StringLike' && base !== 'Bool') {
    throw new Error(`condition operator ${operator} is not modelled by this check`);
  }
  // ForAllValues holds for a missing key; ForAnyValue and single-valued operators need the key.
  if (qualifier === 'ForAllValues') return actual === undefined || actual.every(test);
  if (actual === undefined) return false;
  return actual.some(test);
}

function statementApplies(statement: PolicyStatement, request: AuthorizationRequest): boolean {
  const actions = asList(statement.Action);
  if (!actions.some((a) => globMatches(a, request.action, true))) return false;
  if (!asList(statement.Resource).some((r) => globMatches(r, request.resource))) return false;
  return Object.entries(statement.Condition ?? {}).every(([operator, keys]) =>
    Object.entries(keys).every(([key, value]) => conditionHolds(operator, key, value, request.context)),
  );
}

/** Whether identity statements allow a request: an explicit Deny wins, else any matching Allow. */
export function isAllowed(statements: PolicyStatement[], request: AuthorizationRequest): boolean {
  if (statements.some((s) => s.Effect === 'Deny' && statementApplies(s, request))) return false;
  return statements.some((s) => s.Effect === 'Allow' && statementApplies(s, request));
}
