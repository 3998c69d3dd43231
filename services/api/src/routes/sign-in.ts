import { matchesSecret } from '@mc-vision/core/loopback';
import { signInRequestSchema, signInResponseSchema } from '@mc-vision/core/schemas';
import { Router } from 'express';
import { ApiError } from '../errors.ts';
import { jsonBody, parseInput, sendValidated } from '../validation.ts';

// The laptop's sign-in link. A browser keeps every address it visits in its history (a fragment included, even
// once the page has replaced it), so the link `pnpm start` prints carries no API key but a code that this route
// exchanges for the key once: the link left in the history is spent.

/** This run's one-time sign-in: its code and the key it is exchanged for. */
export interface SignIn {
  code: string;
  apiKey: string;
}

export function signInRoutes(signIn: SignIn): Router {
  const router = Router();
  let spent = false;
  router.post('/local/sign-in', ...jsonBody, (req, res) => {
    const { code } = parseInput(signInRequestSchema, req.body, 'body');
    if (spent || !matchesSecret(code, signIn.code)) {
      throw new ApiError(
        401,
        'unauthorized',
        'this sign-in link has been used already, or is not this run’s: enter the API key pnpm start printed',
      );
    }
    spent = true;
    res.set('cache-control', 'no-store');
    sendValidated(res, 200, signInResponseSchema, { apiKey: signIn.apiKey });
  });
  return router;
}
