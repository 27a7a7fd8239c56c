import type { IncomingHttpHeaders } from 'node:http';
import type { Soon } from '../core/soon.ts';
import type { Actor } from '../services/actor.ts';
import type { Keygate } from '../services/keygate.ts';

/** The root key named by `Authorization: Bearer …`, as the actor of a `/v1` request. */
export function authenticate(
  keygate: Keygate,
  headers: IncomingHttpHeaders,
  ip: string,
): Soon<Actor | undefined> {
  const header = headers.authorization;
  if (typeof header !== 'string' || !/^bearer /i.test(header)) return undefined;

  const userAgent = headers['user-agent'];
  return keygate.rootKeys.authenticate(header.slice(7).trim(), {
    ip,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 512) : null,
  });
}
