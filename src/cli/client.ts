import { ApiProblemError, ServerUnreachableError } from './errors.ts';
import type {
  ApiView,
  CreatedKeyView,
  CreateKeyInput,
  CreditsChangeInput,
  IdentityInput,
  IdentityView,
  KeyView,
  LimitAnswerView,
  OverrideView,
  Page,
  Problem,
  UpdateKeyInput,
  UsageQuery,
  UsageView,
  VerifyInput,
  VerifyView,
} from './types.ts';

/** Query parameters; `undefined` ones are left out. */
export type Query = Record<string, string | number | boolean | undefined>;

/** How long one request may take before the command gives up. */
const REQUEST_TIMEOUT_MS = 30_000;

/** Paging and filters of `GET /v1/apis/{apiId}/keys`. */
export interface ListKeysQuery {
  externalId?: string;
  limit?: number;
  cursor?: string;
}

/** A small typed client of the keygate HTTP API, authenticated with one root key. */
export class KeygateClient {
  constructor(
    readonly baseUrl: string,
    private readonly rootKey: string,
  ) {}

  /** Creates an API (keyspace). */
  createApi(input: { name: string; prefix?: string }): Promise<ApiView> {
    return this.request('POST', '/v1/apis', { body: input });
  }

  /** Lists one page of APIs. */
  listApis(query: { limit?: number; cursor?: string } = {}): Promise<Page<ApiView>> {
    return this.request('GET', '/v1/apis', { query });
  }

  /** Creates a key; the answer is the one time its secret is shown. */
  createKey(apiId: string, input: CreateKeyInput): Promise<CreatedKeyView> {
    return this.request('POST', `/v1/apis/${segment(apiId)}/keys`, { body: input });
  }

  /** Lists one page of an API's keys. */
  listKeys(apiId: string, query: ListKeysQuery = {}): Promise<Page<KeyView>> {
    return this.request('GET', `/v1/apis/${segment(apiId)}/keys`, { query: { ...query } });
  }

  /** Reads one key. */
  getKey(keyId: string): Promise<KeyView> {
    return this.request('GET', `/v1/keys/${segment(keyId)}`);
  }

  /** Updates a key: omitted fields are kept, `null` clears one. */
  updateKey(keyId: string, input: UpdateKeyInput): Promise<KeyView> {
    return this.request('PATCH', `/v1/keys/${segment(keyId)}`, { body: input });
  }

  /** Revokes a key; it is kept and verifies as `REVOKED`. */
  revokeKey(keyId: string): Promise<KeyView> {
    return this.request('DELETE', `/v1/keys/${segment(keyId)}`);
  }

  /** Erases a key for good. */
  async deleteKeyPermanently(keyId: string): Promise<void> {
    await this.request('DELETE', `/v1/keys/${segment(keyId)}`, { query: { permanent: true } });
  }

  /** Replaces a key by a new secret with the same settings; the old one lasts the grace period. */
  rollKey(keyId: string, gracePeriodMs?: number): Promise<CreatedKeyView> {
    const body = gracePeriodMs === undefined ? {} : { gracePeriodMs };
    return this.request('POST', `/v1/keys/${segment(keyId)}/roll`, { body });
  }

  /** Sets, adds to or takes from a key's credits. */
  changeKeyCredits(keyId: string, input: CreditsChangeInput): Promise<KeyView> {
    return this.request('POST', `/v1/keys/${segment(keyId)}/credits`, { body: input });
  }

  /** Creates an identity (a customer whose keys share limits and credits). */
  createIdentity(input: IdentityInput): Promise<IdentityView> {
    return this.request('POST', '/v1/identities', { body: input });
  }

  /** Lists one page of identities. */
  listIdentities(query: { limit?: number; cursor?: string } = {}): Promise<Page<IdentityView>> {
    return this.request('GET', '/v1/identities', { query });
  }

  /** Reads one identity by its external id. */
  getIdentity(externalId: string): Promise<IdentityView> {
    return this.request('GET', `/v1/identities/${segment(externalId)}`);
  }

  /** Updates an identity: omitted fields are kept, `null` clears one. */
  updateIdentity(externalId: string, input: IdentityInput): Promise<IdentityView> {
    return this.request('PATCH', `/v1/identities/${segment(externalId)}`, { body: input });
  }

  /** Deletes an identity; its keys stay. */
  async deleteIdentity(externalId: string): Promise<void> {
    await this.request('DELETE', `/v1/identities/${segment(externalId)}`);
  }

  /** Sets, adds to or takes from an identity's shared credits. */
  changeIdentityCredits(externalId: string, input: CreditsChangeInput): Promise<IdentityView> {
    const path = `/v1/identities/${segment(externalId)}/credits`;
    return this.request('POST', path, { body: input });
  }

  /** Counts one call of an identifier against a namespace's limit. */
  limit(
    namespace: string,
    input: { identifier: string; limit: number; duration: number; cost?: number },
  ): Promise<LimitAnswerView> {
    return this.request('POST', `/v1/ratelimits/${segment(namespace)}/limit`, { body: input });
  }

  /** Sets the limit of one identifier, or of a `*` pattern. */
  setOverride(
    namespace: string,
    identifier: string,
    input: { limit: number; duration: number },
  ): Promise<OverrideView> {
    return this.request('PUT', overridePath(namespace, identifier), { body: input });
  }

  /** Reads the override of one identifier or pattern. */
  getOverride(namespace: string, identifier: string): Promise<OverrideView> {
    return this.request('GET', overridePath(namespace, identifier));
  }

  /** Deletes the override of one identifier or pattern. */
  async deleteOverride(namespace: string, identifier: string): Promise<void> {
    await this.request('DELETE', overridePath(namespace, identifier));
  }

  /** Verifications by code, bucket by bucket. */
  usage(query: UsageQuery): Promise<UsageView> {
    return this.request('GET', '/v1/usage', { query: { ...query } });
  }

  /** The same as CSV: `time` and a column per verify code, a row per bucket. */
  usageCsv(query: UsageQuery): Promise<string> {
    return this.request('GET', '/v1/usage', { query: { ...query }, accept: 'text/csv' });
  }

  /** Verifies a key as an API would. */
  verifyKey(input: VerifyInput): Promise<VerifyView> {
    return this.request('POST', '/v1/keys/verify', { body: input });
  }

  /** Sends one request and answers its parsed JSON body, or throws a typed error. */
  async request<T>(
    method: string,
    path: string,
    options: { body?: unknown; query?: Query; accept?: string } = {},
  ): Promise<T> {
    const url = this.url(path, options.query);
    const response = await this.send(url, method, options.body, options.accept);
    const body = await readBody(response);

    if (!response.ok) throw new ApiProblemError(response.status, toProblem(response, body), body);
    return body as T;
  }

  private url(path: string, query: Query = {}): URL {
    const url = new URL(path, this.baseUrl);
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    return url;
  }

  private async send(
    url: URL,
    method: string,
    body: unknown,
    accept = 'application/json',
  ): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.rootKey}`, accept };
    if (body !== undefined) headers['content-type'] = 'application/json';

    try {
      return await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new ServerUnreachableError(this.baseUrl, unreachableReason(error), { cause: error });
    }
  }
}

function segment(id: string): string {
  return encodeURIComponent(id);
}

function overridePath(namespace: string, identifier: string): string {
  return `/v1/ratelimits/${segment(namespace)}/overrides/${segment(identifier)}`;
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return undefined;

  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function toProblem(response: Response, body: unknown): Problem {
  if (typeof body === 'object' && body !== null) return body as Problem;

  const detail = typeof body === 'string' && body.length < 200 ? body : response.statusText;
  return { status: response.status, detail: detail || `HTTP ${response.status}` };
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
};

/** Turns what `fetch` threw into a few words, e.g. `connection refused`. */
function unreachableReason(error: unknown): string {
  if (error instanceof DOMException && error.name === 'TimeoutError') {
    return `no answer within ${REQUEST_TIMEOUT_MS / 1000}s`;
  }

  const cause =
    error instanceof Error ? (error.cause as { code?: string; message?: string }) : undefined;
  const code = cause?.code;
  if (code) return REASONS[code] ?? code;
  if (cause?.message) return cause.message;
  return error instanceof Error ? error.message : String(error);
}
