import { z } from 'zod';

// Settings only the infrastructure app reads (names, sizes, alarm thresholds). Environments (dev/prod)
// differ by these values, never by code.

export const infraConfigShape = {
  DEPLOY_ENV: z.enum(['dev', 'prod']).default('dev'),
  NAME_PREFIX: z
    .string()
    .regex(/^[a-z][a-z0-9-]{1,20}$/)
    .default('mc-vision'),
  ALERT_EMAIL: z.email().optional(),
};
