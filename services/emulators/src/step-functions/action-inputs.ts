import { z } from 'zod';

// Input fields every Step Functions action shares, as the API's model constrains them.

export const defaultPageSize = 100;
export const arn = z.string().min(1).max(2048);
export const maxResults = z.number().int().min(0).max(1000).optional();
export const nextToken = z.string().min(1).max(3096).optional();
