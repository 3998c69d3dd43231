import { describe, expect, it } from '@jest/globals';
import { resourceNames } from '../src/names';
import { configOf, ref, resources, synthAll, type SynthesizedStack, type TerraformJson } from './helpers';
import { asList, isWildcardAction, policyDocuments, wildcardProblems } from './policy-checks';

// The checks tfsec made (and Trivy's config scan, its successor, runs in the infra workflows), done over the
// synthesized JSON of every stack of every environment, plus the ones Trivy's checks bundle no longer runs
// (wildcards in IAM: permissions-scope.test.ts). Each check names the stack and resource that breaks it.

const stacks = synthAll();
const byKind = (suffix: string) => stacks.filter((s) => s.name.endsWith(suffix));

/** The configuration blocks of a type that point at a bucket (`bucket = "${aws_s3_bucket.<address>.id}"`). */
function forBucket(json: TerraformJson, type: string, bucketAddress: string) {
  return resources(json, type)
    .map(([, config]) => config)
    .filter((config) => config.bucket === ref('aws_s3_bucket', bucketAddress, 'id'));
}

function eachBucket(check: (stack: SynthesizedStack, address: string) => void) {
  let count = 0;
  for (const stack of stacks) {
    for (const [address] of resources(stack.json, 'aws_s3_bucket')) {
      check(stack, address);
      count += 1;
    }
  }
  // state bucket per environment, plus images and models per environment
  expect(count).toBe(6);
}

describe('buckets', () => {
  it('are encrypted with KMS (bucket keys on)', () => {
    eachBucket(({ json }, address) => {
      const [encryption] = forBucket(json, 'aws_s3_bucket_server_side_encryption_configuration', address);
      expect(encryption?.rule).toEqual([
        { apply_server_side_encryption_by_default: { sse_algorithm: 'aws:kms' }, bucket_key_enabled: true },
      ]);
    });
  });

  it('are versioned', () => {
    eachBucket(({ json }, address) => {
      const [versioning] = forBucket(json, 'aws_s3_bucket_versioning', address);
      expect(versioning?.versioning_configuration).toEqual({ status: 'Enabled' });
    });
  });

  it('block every kind of public access and disable ACLs', () => {
    eachBucket(({ json }, address) => {
      const [block] = forBucket(json, 'aws_s3_bucket_public_access_block', address);
      expect(block).toMatchObject({
        block_public_acls: true,
        block_public_policy: true,
        ignore_public_acls: true,
        restrict_public_buckets: true,
      });
      const [ownership] = forBucket(json, 'aws_s3_bucket_ownership_controls', address);
      expect(ownership?.rule).toEqual({ object_ownership: 'BucketOwnerEnforced' });
    });
  });

  it('refuse plain HTTP to the bucket and every object in it', () => {
    eachBucket(({ json }, address) => {
      const [policy] = forBucket(json, 'aws_s3_bucket_policy', address);
      const document = JSON.parse(String(policy?.policy)) as { Statement: Record<string, unknown>[] };
      const arn = ref('aws_s3_bucket', address, 'arn');
      expect(document.Statement).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 's3:*',
          Resource: [arn, `${arn}/*`],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    });
  });

  it('expire old versions and abandoned multipart uploads', () => {
    eachBucket(({ json }, address) => {
      const [lifecycle] = forBucket(json, 'aws_s3_bucket_lifecycle_configuration', address);
      const rules = lifecycle?.rule as Record<string, unknown>[];
      expect(rules.some((r) => Array.isArray(r.noncurrent_version_expiration))).toBe(true);
      expect(rules.some((r) => Array.isArray(r.abort_incomplete_multipart_upload))).toBe(true);
    });
  });
});

describe('tables', () => {
  it('have point-in-time recovery, encryption and deletion protection', () => {
    const tables = stacks.flatMap((s) => resources(s.json, 'aws_dynamodb_table'));
    expect(tables).toHaveLength(4); // lock table and results table per environment
    for (const [, table] of tables) {
      expect(table).toMatchObject({
        point_in_time_recovery: { enabled: true },
        server_side_encryption: { enabled: true },
        deletion_protection_enabled: true,
      });
    }
  });

  it('expire result records by TTL on expiresAt', () => {
    for (const { json } of byKind('aws-platform')) {
      const [[, table]] = resources(json, 'aws_dynamodb_table') as [[string, Record<string, unknown>]];
      expect(table.ttl).toEqual({ attribute_name: 'expiresAt', enabled: true });
    }
  });
});

describe('topics, functions, logs and images', () => {
  it('encrypt every topic with a rotating key', () => {
    for (const { json } of byKind('aws-platform')) {
      for (const [, topic] of resources(json, 'aws_sns_topic')) {
        const key = String(topic.kms_master_key_id);
        expect(key).toMatch(/^\$\{aws_kms_key\.[^.]+\.arn\}$/);
        const keyAddress = key.split('.')[1]!;
        expect(json.resource?.aws_kms_key?.[keyAddress]?.enable_key_rotation).toBe(true);
      }
    }
  });

  it('trace every function with X-Ray and log it to a group with retention', () => {
    for (const { json } of byKind('aws-platform')) {
      const functions = resources(json, 'aws_lambda_function');
      expect(functions).toHaveLength(3);
      for (const [, fn] of functions) {
        expect(fn.tracing_config).toEqual({ mode: 'Active' });
        const group = String((fn.logging_config as Record<string, unknown>).log_group);
        const groupAddress = group.match(/^\$\{aws_cloudwatch_log_group\.([^.]+)\.name\}$/)?.[1];
        expect(groupAddress).toBeDefined();
        const logGroup = json.resource?.aws_cloudwatch_log_group?.[groupAddress!];
        expect(logGroup?.name).toBe(`/aws/lambda/${String(fn.function_name)}`);
        expect(logGroup?.retention_in_days).toBeGreaterThan(0);
      }
    }
  });

  it('set a retention on every log group', () => {
    for (const { json } of stacks) {
      for (const [, group] of resources(json, 'aws_cloudwatch_log_group')) {
        expect(group.retention_in_days).toBeGreaterThan(0);
      }
    }
  });

  it('scan every image on push and never overwrite a tag', () => {
    for (const { json } of byKind('aws-platform')) {
      const repositories = resources(json, 'aws_ecr_repository');
      expect(repositories).toHaveLength(3);
      for (const [, repository] of repositories) {
        expect(repository.image_tag_mutability).toBe('IMMUTABLE');
        expect(repository.image_scanning_configuration).toEqual({ scan_on_push: true });
      }
    }
  });
});

describe('IAM', () => {
  const documents = stacks.flatMap((s) => policyDocuments(s.json).map((d) => ({ ...d, stack: s.name })));

  it('finds every policy document there is to check', () => {
    // per environment: 5 workload roles and 2 GitHub roles (trust + inline), the boundary and the GitHub
    // roles' shared read policy, 3 buckets, 1 key
    expect(documents).toHaveLength(2 * (5 * 2 + 2 * 2 + 2 + 3 + 1));
  });

  it('grants no wildcard action anywhere (a TLS-only Deny is the one exception)', () => {
    expect(documents.flatMap((d) => wildcardProblems(d).map((p) => `${d.stack}: ${p}`))).toEqual([]);
  });

  it('recognises the wildcards it must refuse', () => {
    for (const action of ['*', 's3:*', 's3:Get*', 'dynamodb:*Item', 'lambda:Invoke?unction']) {
      expect(isWildcardAction(action)).toBe(true);
    }
    expect(isWildcardAction('s3:GetObject')).toBe(false);
    const bad = {
      where: 'example',
      statements: [
        { Effect: 'Allow' as const, Action: ['s3:GetObject', 's3:Get*'], Resource: '*' },
        { Effect: 'Allow' as const, NotAction: 'iam:CreateUser', Resource: '*' },
        { Effect: 'Deny' as const, Action: 's3:*', Resource: '*' },
      ],
    };
    expect(wildcardProblems(bad)).toHaveLength(3);
  });

  it('keeps every inline role policy within IAM size limits', () => {
    for (const { json } of stacks) {
      for (const [address, policy] of resources(json, 'aws_iam_role_policy')) {
        const size = String(policy.policy).replace(/\s/g, '').length;
        expect({ address, fits: size < 10_240 }).toEqual({ address, fits: true });
      }
      for (const [, policy] of resources(json, 'aws_iam_policy')) {
        expect(String(policy.policy).length).toBeLessThan(6_144);
      }
    }
  });

  it('gives every workload role the permissions boundary, and no action outside it', () => {
    for (const { json, name } of byKind('aws-platform')) {
      const names = resourceNames(configOf(name.startsWith('prod') ? 'prod' : 'dev'));
      const roles = resources(json, 'aws_iam_role');
      expect(roles).toHaveLength(5);
      for (const [, role] of roles) expect(role.permissions_boundary).toBe(names.workloadBoundaryArn);
      const granted = policyDocuments(json)
        .filter((d) => d.where.startsWith('aws_iam_role_policy.'))
        .flatMap((d) => d.statements.flatMap((s) => asList(s.Action)));
      const backend = stacks.find((s) => s.name === name.replace('aws-platform', 'state-backend'))!;
      const boundary = policyDocuments(backend.json).find((d) =>
        d.where.startsWith('aws_iam_policy.github_workload-boundary'),
      )!;
      const bounded = boundary.statements.flatMap((s) => asList(s.Action));
      expect(granted.filter((action) => !bounded.includes(action))).toEqual([]);
    }
  });
});

describe('state', () => {
  it('keeps every deployed stack in the encrypted S3 backend with both locks', () => {
    for (const stack of stacks.filter((s) => !s.name.endsWith('state-backend'))) {
      const env = stack.name.startsWith('prod') ? 'prod' : 'dev';
      const config = configOf(env);
      expect(stack.json.terraform.backend?.s3).toEqual({
        bucket: config.TF_STATE_BUCKET,
        key: `${env}/${stack.name.slice(env.length + 1)}.tfstate`,
        region: config.AWS_REGION,
        encrypt: true,
        dynamodb_table: config.TF_STATE_LOCK_TABLE,
        use_lockfile: true,
      });
    }
  });

  it('bootstraps the backend itself with local state outside cdktf.out, and creates what the others use', () => {
    for (const stack of byKind('state-backend')) {
      const env = stack.name.startsWith('prod') ? 'prod' : 'dev';
      const config = configOf(env);
      expect(stack.json.terraform.backend).toEqual({
        local: { path: `../../../state/${env}-state-backend.tfstate` },
      });
      const [[, bucket]] = resources(stack.json, 'aws_s3_bucket') as [[string, Record<string, unknown>]];
      expect(bucket.bucket).toBe(config.TF_STATE_BUCKET);
      const [[, table]] = resources(stack.json, 'aws_dynamodb_table') as [[string, Record<string, unknown>]];
      expect(table).toMatchObject({
        name: config.TF_STATE_LOCK_TABLE,
        hash_key: 'LockID',
        attribute: [{ name: 'LockID', type: 'S' }],
      });
    }
  });
});
