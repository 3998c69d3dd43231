import { allow, type Statement } from './iam';
import { imageNames, type ResourceNames } from './names';

// What Terraform needs to plan (read) and apply (read + write) the platform stack, service by service, with
// every action named (no wildcards) and resources scoped to this environment's names wherever the service
// has resource-level permissions. When a provider upgrade reads or writes something new, Terraform reports
// the missing action by name: add it here.

interface ServicePermissions {
  read: string[];
  write: string[];
  resources: string[];
  condition?: Statement['Condition'];
}

export function platformPermissions(names: ResourceNames): Record<string, ServicePermissions> {
  const { base, region, account } = names;
  // The provider's default tags (providers.ts) mark everything the stacks create.
  const ownTags = (key: 'ResourceTag' | 'RequestTag') => ({
    [`aws:${key}/project`]: names.project,
    [`aws:${key}/environment`]: names.env,
  });
  return {
    s3: {
      read: [
        's3:GetAccelerateConfiguration',
        's3:GetBucketAcl',
        's3:GetBucketCORS',
        's3:GetBucketLocation',
        's3:GetBucketLogging',
        's3:GetBucketNotification',
        's3:GetBucketObjectLockConfiguration',
        's3:GetBucketOwnershipControls',
        's3:GetBucketPolicy',
        's3:GetBucketPolicyStatus',
        's3:GetBucketPublicAccessBlock',
        's3:GetBucketRequestPayment',
        's3:GetBucketTagging',
        's3:GetBucketVersioning',
        's3:GetBucketWebsite',
        's3:GetEncryptionConfiguration',
        's3:GetLifecycleConfiguration',
        's3:GetReplicationConfiguration',
        's3:ListBucket',
      ],
      write: [
        's3:CreateBucket',
        's3:DeleteBucket',
        's3:DeleteBucketPolicy',
        's3:PutBucketCORS',
        's3:PutBucketNotification',
        's3:PutBucketOwnershipControls',
        's3:PutBucketPolicy',
        's3:PutBucketPublicAccessBlock',
        's3:PutBucketTagging',
        's3:PutBucketVersioning',
        's3:PutEncryptionConfiguration',
        's3:PutLifecycleConfiguration',
      ],
      resources: [`arn:aws:s3:::${base}-*`],
    },
    dynamodb: {
      read: [
        'dynamodb:DescribeContinuousBackups',
        'dynamodb:DescribeTable',
        'dynamodb:DescribeTimeToLive',
        'dynamodb:ListTagsOfResource',
      ],
      write: [
        'dynamodb:CreateTable',
        'dynamodb:DeleteTable',
        'dynamodb:TagResource',
        'dynamodb:UntagResource',
        'dynamodb:UpdateContinuousBackups',
        'dynamodb:UpdateTable',
        'dynamodb:UpdateTimeToLive',
      ],
      resources: [`arn:aws:dynamodb:${region}:${account}:table/${base}-*`],
    },
    ecr: {
      read: [
        'ecr:DescribeRepositories',
        'ecr:GetLifecyclePolicy',
        'ecr:GetRepositoryPolicy',
        'ecr:ListTagsForResource',
      ],
      write: [
        // Lambda checks the creating principal can pull the image it is given.
        'ecr:BatchGetImage',
        'ecr:GetDownloadUrlForLayer',
        'ecr:CreateRepository',
        'ecr:DeleteLifecyclePolicy',
        'ecr:DeleteRepository',
        'ecr:PutImageScanningConfiguration',
        'ecr:PutImageTagMutability',
        'ecr:PutLifecyclePolicy',
        'ecr:SetRepositoryPolicy',
        'ecr:TagResource',
        'ecr:UntagResource',
      ],
      resources: [`arn:aws:ecr:${region}:${account}:repository/${base}/*`],
    },
    lambda: {
      read: [
        'lambda:GetAlias',
        'lambda:GetFunction',
        'lambda:GetFunctionCodeSigningConfig',
        'lambda:GetFunctionConcurrency',
        'lambda:GetFunctionConfiguration',
        'lambda:GetPolicy',
        'lambda:GetProvisionedConcurrencyConfig',
        'lambda:ListTags',
        'lambda:ListVersionsByFunction',
      ],
      write: [
        'lambda:AddPermission',
        'lambda:CreateAlias',
        'lambda:CreateFunction',
        'lambda:DeleteAlias',
        'lambda:DeleteFunction',
        'lambda:DeleteFunctionConcurrency',
        'lambda:DeleteProvisionedConcurrencyConfig',
        'lambda:PublishVersion',
        'lambda:PutFunctionConcurrency',
        'lambda:PutProvisionedConcurrencyConfig',
        'lambda:RemovePermission',
        'lambda:TagResource',
        'lambda:UntagResource',
        'lambda:UpdateAlias',
        'lambda:UpdateFunctionCode',
        'lambda:UpdateFunctionConfiguration',
      ],
      resources: [`arn:aws:lambda:${region}:${account}:function:${base}-*`],
    },
    logs: {
      read: ['logs:DescribeLogGroups', 'logs:ListTagsForResource', 'logs:ListTagsLogGroup'],
      write: [
        'logs:CreateLogGroup',
        'logs:DeleteLogGroup',
        'logs:DeleteRetentionPolicy',
        'logs:PutRetentionPolicy',
        'logs:TagLogGroup',
        'logs:TagResource',
        'logs:UntagLogGroup',
        'logs:UntagResource',
      ],
      resources: [`arn:aws:logs:${region}:${account}:log-group:*`],
    },
    // Vended log delivery (Step Functions and API Gateway logging) has no resource-level permissions.
    logDelivery: {
      read: ['logs:DescribeResourcePolicies', 'logs:GetLogDelivery', 'logs:ListLogDeliveries'],
      write: [
        'logs:CreateLogDelivery',
        'logs:DeleteLogDelivery',
        'logs:PutResourcePolicy',
        'logs:UpdateLogDelivery',
      ],
      resources: ['*'],
    },
    apigateway: {
      read: ['apigateway:GET'],
      write: ['apigateway:DELETE', 'apigateway:PATCH', 'apigateway:POST', 'apigateway:PUT'],
      resources: [
        `arn:aws:apigateway:${region}::/apis`,
        `arn:aws:apigateway:${region}::/apis/*`,
        `arn:aws:apigateway:${region}::/tags/*`,
      ],
    },
    states: {
      read: ['states:DescribeStateMachine', 'states:ListStateMachineVersions', 'states:ListTagsForResource'],
      write: [
        'states:CreateStateMachine',
        'states:DeleteStateMachine',
        'states:TagResource',
        'states:UntagResource',
        'states:UpdateStateMachine',
      ],
      resources: [`arn:aws:states:${region}:${account}:stateMachine:${base}-*`],
    },
    sagemaker: {
      read: [
        'sagemaker:DescribeEndpoint',
        'sagemaker:DescribeEndpointConfig',
        'sagemaker:DescribeModel',
        'sagemaker:ListTags',
      ],
      write: [
        'sagemaker:AddTags',
        'sagemaker:CreateEndpoint',
        'sagemaker:CreateEndpointConfig',
        'sagemaker:CreateModel',
        'sagemaker:DeleteEndpoint',
        'sagemaker:DeleteEndpointConfig',
        'sagemaker:DeleteModel',
        'sagemaker:DeleteTags',
        'sagemaker:UpdateEndpoint',
      ],
      resources: [
        `arn:aws:sagemaker:${region}:${account}:model/${base}-*`,
        `arn:aws:sagemaker:${region}:${account}:endpoint-config/${base}-*`,
        `arn:aws:sagemaker:${region}:${account}:endpoint/${base}-*`,
      ],
    },
    bedrock: {
      read: ['bedrock:GetGuardrail', 'bedrock:ListTagsForResource'],
      write: [
        'bedrock:CreateGuardrail',
        'bedrock:CreateGuardrailVersion',
        'bedrock:DeleteGuardrail',
        'bedrock:TagResource',
        'bedrock:UntagResource',
        'bedrock:UpdateGuardrail',
      ],
      // Guardrail ids are generated, so the scope is this account's guardrails in the region.
      resources: [`arn:aws:bedrock:${region}:${account}:guardrail/*`],
    },
    sns: {
      read: ['sns:GetSubscriptionAttributes', 'sns:GetTopicAttributes', 'sns:ListTagsForResource'],
      write: [
        'sns:CreateTopic',
        'sns:DeleteTopic',
        'sns:SetSubscriptionAttributes',
        'sns:SetTopicAttributes',
        'sns:Subscribe',
        'sns:TagResource',
        'sns:Unsubscribe',
        'sns:UntagResource',
      ],
      resources: [`arn:aws:sns:${region}:${account}:${base}-*`],
    },
    // The secrets only: Terraform creates them without a value (constructs/secrets.ts), so neither plan nor
    // apply ever reads or writes one. The Azure key's value is the deploy job's (`syncAzureKeyStatement`).
    secretsmanager: {
      read: [
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetResourcePolicy',
        'secretsmanager:ListSecretVersionIds',
      ],
      write: [
        'secretsmanager:CreateSecret',
        'secretsmanager:DeleteSecret',
        'secretsmanager:TagResource',
        'secretsmanager:UntagResource',
        'secretsmanager:UpdateSecret',
      ],
      resources: [`arn:aws:secretsmanager:${region}:${account}:secret:${names.secretPrefix}*`],
    },
    cloudwatch: {
      read: ['cloudwatch:DescribeAlarms', 'cloudwatch:GetDashboard', 'cloudwatch:ListTagsForResource'],
      write: [
        'cloudwatch:DeleteAlarms',
        'cloudwatch:DeleteDashboards',
        'cloudwatch:PutDashboard',
        'cloudwatch:PutMetricAlarm',
        'cloudwatch:TagResource',
        'cloudwatch:UntagResource',
      ],
      resources: [
        `arn:aws:cloudwatch:${region}:${account}:alarm:${base}-*`,
        `arn:aws:cloudwatch::${account}:dashboard/${base}-*`,
      ],
    },
    // The notifications topic's key. Keys have generated ids: the environment's tags scope them.
    kmsKeys: {
      read: ['kms:DescribeKey', 'kms:GetKeyPolicy', 'kms:GetKeyRotationStatus', 'kms:ListResourceTags'],
      write: [
        'kms:EnableKeyRotation',
        'kms:PutKeyPolicy',
        'kms:ScheduleKeyDeletion',
        'kms:TagResource',
        'kms:UntagResource',
        'kms:UpdateKeyDescription',
      ],
      resources: [`arn:aws:kms:${region}:${account}:key/*`],
      condition: { StringEquals: ownTags('ResourceTag') },
    },
    kmsCreateKey: {
      read: [],
      write: ['kms:CreateKey'],
      resources: ['*'],
      condition: { StringEquals: ownTags('RequestTag') },
    },
    kmsAliases: {
      read: ['kms:ListAliases'],
      write: [],
      resources: ['*'],
    },
    kmsManageAliases: {
      read: [],
      write: ['kms:CreateAlias', 'kms:DeleteAlias', 'kms:UpdateAlias'],
      resources: [
        `arn:aws:kms:${region}:${account}:alias/${base}-*`,
        `arn:aws:kms:${region}:${account}:key/*`,
      ],
    },
    // Role writes are in `deployStatements`: only with the workload permissions boundary attached.
    iam: {
      read: [
        'iam:GetRole',
        'iam:GetRolePolicy',
        'iam:ListAttachedRolePolicies',
        'iam:ListInstanceProfilesForRole',
        'iam:ListRolePolicies',
      ],
      write: [],
      resources: [`arn:aws:iam::${account}:role/${base}-*`],
    },
  };
}

/** Where an environment's Terraform state lives: the bucket (its name and ARN) and the lock table. */
export interface StateStore {
  bucketName: string;
  bucketArn: string;
  lockTableArn: string;
}

/**
 * Reads the state objects `keys` (exact keys like `dev/aws-platform.tfstate`, or a pattern like `dev/*`) and
 * takes their locks, both mechanisms: the S3 lock file `<key>.tflock` and the DynamoDB items `<bucket>/<key>`
 * and `<bucket>/<key>-md5` (the condition keeps other states' lock items out of reach). With `write`, also
 * writes those states. The plan role, which pull requests can assume, only reads, and only the states it needs.
 */
export function stateAccess(state: StateStore, keys: string[], access: 'read' | 'write'): Statement[] {
  const lockItems = keys.flatMap((key) => [`${state.bucketName}/${key}`, `${state.bucketName}/${key}-md5`]);
  return [
    { Sid: 'StateList', Effect: 'Allow', Action: 's3:ListBucket', Resource: state.bucketArn },
    {
      Sid: 'StateObjects',
      Effect: 'Allow',
      Action: access === 'write' ? ['s3:GetObject', 's3:PutObject'] : 's3:GetObject',
      Resource: keys.map((key) => `${state.bucketArn}/${key}`),
    },
    {
      Sid: 'StateLockFile',
      Effect: 'Allow',
      Action: ['s3:DeleteObject', 's3:PutObject'],
      Resource: keys.map((key) => `${state.bucketArn}/${key}.tflock`),
    },
    {
      Sid: 'StateLockTable',
      Effect: 'Allow',
      Action: ['dynamodb:DeleteItem', 'dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:PutItem'],
      Resource: state.lockTableArn,
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': lockItems } },
    },
  ];
}

function statements(
  permissions: Record<string, ServicePermissions>,
  pick: (p: ServicePermissions) => string[],
): Statement[] {
  return Object.entries(permissions)
    .filter(([, p]) => pick(p).length > 0)
    .map(([service, p]) => ({
      Sid: service.replace(/^./, (c) => c.toUpperCase()),
      Effect: 'Allow',
      Action: pick(p),
      Resource: p.resources,
      ...(p.condition ? { Condition: p.condition } : {}),
    }));
}

/** Plan: read everything the platform consists of. */
export function planStatements(names: ResourceNames): Statement[] {
  return statements(platformPermissions(names), (p) => p.read);
}

/**
 * Where model packages live in the models bucket. The deploy role may write only below it, so every
 * environment's `MODEL_ARTIFACT_KEY` starts with it (tests/deploy-permissions.test.ts); a new model version
 * is a new key below it and needs no change to the role.
 */
export const modelArtifactsPrefix = 'models/';

/** The ECR actions of `docker push` (AWS's list for pushing to one repository). */
const pushImageActions = [
  'ecr:BatchCheckLayerAvailability',
  'ecr:BatchGetImage',
  'ecr:CompleteLayerUpload',
  'ecr:InitiateLayerUpload',
  'ecr:PutImage',
  'ecr:UploadLayerPart',
];

/**
 * Publishing a release (deploy-images.yml, in infra-apply.yml's job for the environment): push the images
 * to this environment's three repositories and put the model package in the models bucket. Rolling them
 * out is Terraform's job, in the same job.
 */
export function publishStatements(names: ResourceNames): Statement[] {
  const repositories = imageNames.map(
    (image) => `arn:aws:ecr:${names.region}:${names.account}:repository/${names.repository(image)}`,
  );
  return [
    // Registry login is account-wide: GetAuthorizationToken has no resource-level permission.
    allow('ecr:GetAuthorizationToken', '*', 'LogInToRegistry'),
    // DescribeImages: a tag already pushed is skipped (tags are immutable, a second push would fail).
    allow([...pushImageActions, 'ecr:DescribeImages'], repositories, 'PushImages'),
    // GetObject: an identical package already there is kept (and HEAD tells a missing key apart).
    allow(
      ['s3:GetObject', 's3:PutObject'],
      `arn:aws:s3:::${names.modelsBucket}/${modelArtifactsPrefix}*`,
      'PublishModelPackage',
    ),
  ];
}

/**
 * The Azure OpenAI key's value: the deploy job copies it from the Azure stack's sensitive output into its
 * secret, reading the current value first so it writes a new version only when the key changed. This secret
 * only: the API keys are an operator's, and no role of the workflows reads or writes them.
 */
export function syncAzureKeyStatement(names: ResourceNames): Statement {
  // Secrets Manager appends `-` and six random characters to the name.
  const secret = `arn:aws:secretsmanager:${names.region}:${names.account}:secret:${names.azureKeySecret}-??????`;
  return allow(['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'], secret, 'SyncAzureKey');
}

/**
 * Apply: read and change it, and hand its roles to the services that assume them. The deploy role may only
 * create or change a role that carries the workload permissions boundary, so no role it makes can do more
 * than `workloadActions`, whatever policy it is given. It also publishes the release it applies and keeps
 * the Azure key's secret current.
 */
export function deployStatements(names: ResourceNames): Statement[] {
  const roles = `arn:aws:iam::${names.account}:role/${names.base}-*`;
  const withBoundary = { StringEquals: { 'iam:PermissionsBoundary': names.workloadBoundaryArn } };
  return [
    ...statements(platformPermissions(names), (p) => [...p.read, ...p.write]),
    ...publishStatements(names),
    syncAzureKeyStatement(names),
    {
      Sid: 'ManageWorkloadRolesWithBoundary',
      Effect: 'Allow',
      Action: ['iam:CreateRole', 'iam:DeleteRolePolicy', 'iam:PutRolePolicy'],
      Resource: roles,
      Condition: withBoundary,
    },
    {
      Sid: 'ManageWorkloadRoles',
      Effect: 'Allow',
      Action: [
        'iam:DeleteRole',
        'iam:TagRole',
        'iam:UntagRole',
        'iam:UpdateAssumeRolePolicy',
        'iam:UpdateRole',
      ],
      Resource: roles,
    },
    {
      Sid: 'PassWorkloadRoles',
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: roles,
      Condition: {
        StringEquals: {
          'iam:PassedToService': ['lambda.amazonaws.com', 'states.amazonaws.com', 'sagemaker.amazonaws.com'],
        },
      },
    },
  ];
}

/**
 * Everything a workload role (Lambda, Step Functions, SageMaker) may ever be allowed: the permissions
 * boundary of every role the deploy role creates. Each role's own policy then scopes resources.
 */
export const workloadActions: readonly string[] = [
  'bedrock:ApplyGuardrail',
  'bedrock:InvokeModel',
  'cloudwatch:DescribeAlarmHistory',
  'cloudwatch:DescribeAlarms',
  'cloudwatch:GetMetricData',
  'dynamodb:DescribeTable',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'ecr:BatchCheckLayerAvailability',
  'ecr:BatchGetImage',
  'ecr:GetAuthorizationToken',
  'ecr:GetDownloadUrlForLayer',
  'kms:Decrypt',
  'kms:GenerateDataKey',
  'lambda:InvokeFunction',
  'logs:CreateLogDelivery',
  'logs:CreateLogGroup',
  'logs:CreateLogStream',
  'logs:DeleteLogDelivery',
  'logs:DescribeLogGroups',
  'logs:DescribeResourcePolicies',
  'logs:GetLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutLogEvents',
  'logs:PutResourcePolicy',
  'logs:UpdateLogDelivery',
  's3:GetObject',
  's3:ListBucket',
  's3:PutObject',
  'sagemaker:DescribeEndpoint',
  'sagemaker:InvokeEndpoint',
  'secretsmanager:GetSecretValue',
  'sns:Publish',
  'states:DescribeExecution',
  'states:DescribeStateMachine',
  'states:GetExecutionHistory',
  'states:StartExecution',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'xray:PutTelemetryRecords',
  'xray:PutTraceSegments',
];
