import type { TerraformJson } from './helpers';

// The checks tfsec runs in CI, done here over the synthesized JSON: what every IAM document may contain.

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
