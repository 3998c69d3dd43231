import express, { type Request, type RequestHandler, type Response } from 'express';
import type * as z from 'zod';
import { ApiError, invalidInput, type InputLocation } from './errors.ts';

/** Parses a request part with its contract schema; a mismatch is a 400 naming the field. */
export function parseInput<T extends z.ZodType>(
  schema: T,
  value: unknown,
  location: InputLocation,
): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidInput(location, parsed.error);
  return parsed.data;
}

/** Answers with a body checked against its contract schema: a response that breaks the contract is our bug (500). */
export function sendValidated<T extends z.ZodType>(
  res: Response,
  status: number,
  schema: T,
  body: z.input<T>,
): void {
  res.status(status).json(schema.parse(body));
}

/** JSON routes take an `application/json` body (400 without a body, 415 for another type), checked before reading it. */
export const requireJson: RequestHandler = (req: Request, _res, next) => {
  const isJson = req.is('application/json');
  if (isJson === null) throw new ApiError(400, 'invalid_request', 'a JSON body is required');
  if (!isJson) throw new ApiError(415, 'unsupported_media_type', 'send the body as application/json');
  next();
};

/** A JSON request body: type checked first, then parsed (small: no route takes more than a few fields). */
export const jsonBody: RequestHandler[] = [requireJson, express.json({ limit: '16kb' })];
