import type { Config } from './config/index.ts';

// The names one environment gives the resources that monitoring watches and that both places must agree on:
// infra creates them under these names, the local cloud stands in for them under the same names, and the
// monitoring definition's dimensions name them. Every name starts with the environment's base,
// `${NAME_PREFIX}-${DEPLOY_ENV}` (on a laptop `mc-vision-dev`: the laptop is the dev environment's names).

export type FunctionRole = 'api' | 'worker' | 'ingest';
export const functionRoles: readonly FunctionRole[] = ['api', 'worker', 'ingest'];

/** The SageMaker endpoint's one production variant (CloudWatch's `VariantName` dimension). */
export const classifierVariant = 'AllTraffic';

/** The HTTP API's one stage (CloudWatch's `Stage` dimension). */
export const httpApiStage = '$default';

export type NamingConfig = Pick<Config, 'NAME_PREFIX' | 'DEPLOY_ENV' | 'AWS_REGION' | 'AWS_ACCOUNT_ID'>;

export function platformNames(config: NamingConfig) {
  const base = `${config.NAME_PREFIX}-${config.DEPLOY_ENV}`;
  const region = config.AWS_REGION;
  const account = config.AWS_ACCOUNT_ID;
  const functionName = (role: FunctionRole) => `${base}-${role}`;
  const alarmsTopic = `${base}-alarms`;
  return {
    base,
    region,
    account,
    functionName,
    functionArn: (role: FunctionRole) => `arn:aws:lambda:${region}:${account}:function:${functionName(role)}`,
    /** CloudWatch alarms notify this topic; pipeline results go to another, so no model text reaches it. */
    alarmsTopic,
    alarmsTopicArn: `arn:aws:sns:${region}:${account}:${alarmsTopic}`,
    dashboard: `${base}-overview`,
    alarm: (id: string) => `${base}-${id}`,
    /** Every alarm of the environment starts with this (DescribeAlarms' AlarmNamePrefix, IAM scoping). */
    alarmPrefix: `${base}-`,
  };
}

export type PlatformNames = ReturnType<typeof platformNames>;
