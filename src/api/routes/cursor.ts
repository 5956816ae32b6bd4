// What the cursor-read routes (GET /hypha/chat, GET /hypha/state/_changes) share: the query parameters
// (after, epoch, limit, timeout), the fields of a page, and how a service failure becomes a status.
import type { CursorQuery, ServiceFailure } from '../hypha-services.ts';
import { text, type ApiReply, type JsonSchema } from '../route.ts';

/** Longest long-poll wait a client may ask for. */
export const MAX_WAIT_S = 600;
const EPOCH_PATTERN = '^[A-Za-z0-9_-]{1,32}$';

export interface CursorParams {
  after?: number;
  epoch?: string;
  limit?: number;
  timeout?: number;
}

export function cursorQuery(defaultLimit: number, maxLimit: number, what: string, extra: Record<string, JsonSchema> = {}): JsonSchema {
  return {
    type: 'object',
    properties: {
      ...extra,
      after: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: `the \`next\` of the previous answer: ${what} after it` },
      epoch: { type: 'string', pattern: EPOCH_PATTERN, description: 'the `epoch` of the previous answer; if the node restarted since, the answer starts over (`reset`)' },
      limit: { type: 'integer', minimum: 1, maximum: maxLimit, default: defaultLimit, description: `at most this many ${what} (default ${defaultLimit})` },
      timeout: { type: 'number', minimum: 0, maximum: MAX_WAIT_S, default: 0, description: `seconds to wait for ${what} when there are none yet (long-poll; default 0, at most ${MAX_WAIT_S})` },
    },
  };
}

export const cursorPageProperties: Record<string, JsonSchema> = {
  next: { type: 'integer', minimum: 0, description: 'pass as `after` (with `epoch`) to get what comes next' },
  missed: { type: 'integer', minimum: 0, description: 'items after `after` the node no longer held (its log is bounded)' },
  reset: { type: 'boolean', description: 'the `epoch` given was not this run\'s (the node restarted): the page starts at the oldest item held' },
  epoch: { type: 'string', pattern: EPOCH_PATTERN, description: 'identifies this run of the node\'s log' },
};

export function cursorRequest(q: CursorParams, defaultLimit: number, signal: AbortSignal): CursorQuery {
  return {
    ...(q.after === undefined ? {} : { after: q.after }),
    ...(q.epoch === undefined ? {} : { epoch: q.epoch }),
    limit: q.limit ?? defaultLimit,
    timeoutMs: Math.round((q.timeout ?? 0) * 1000),
    signal,
  };
}

const STATUS: Record<string, number> = {
  'bad-input': 400,
  'bad-key': 400,
  'bad-value': 400,
  limit: 400,
  namespace: 403,
  'not-found': 404,
  paced: 429,
  busy: 503,
  unavailable: 503,
};

/** A service failure as the plain-text error every route sends. */
export function failure(f: ServiceFailure<string>): ApiReply {
  return text(STATUS[f.code] ?? 400, f.message);
}
