/**
 * The errors this client throws.
 *
 *     ConnectorServiceError        the service answered a problem document: NOTHING WAS SENT
 *     ├── InvalidInputError        to the processor, so the same call may be made again.
 *     ├── NotSentError, ...        One subclass per problem type (./problems.ts, generated
 *     │                            from the service's OpenAPI document); an unknown type is
 *     │                            a plain ConnectorServiceError.
 *     ServiceUnreachableError      no answer from the service (connection refused, reset,
 *                                  DNS, TLS): whether the processor acted is UNKNOWN.
 *     UnexpectedResponseError      an answer that is neither a Result nor a problem document
 *                                  (e.g. a proxy's 502 page): whether the processor acted is
 *                                  UNKNOWN.
 *
 * After either of the last two, look the payment up (`get`, or `find` by your reference) or
 * resend with the same idempotency key. An abort through your own AbortSignal rejects with the
 * signal's reason, as `fetch` does; the payment's state is then unknown too.
 *
 * No error's message, properties or cause holds the service API key or processor credentials:
 * the service never echoes them, and this client never puts them anywhere but request headers.
 */

import type { Problem, ProblemSlug } from "./types.js";

const TYPE_BASE = "https://connector-service.dev/problems/";

/** A problem document from the service (RFC 9457): nothing was sent to the processor. */
export class ConnectorServiceError extends Error {
  /** The problem type this class stands for (set on each generated subclass). */
  static readonly slug: string = "";
  /** The HTTP status of that problem type (set on each generated subclass). */
  static readonly status: number = 0;

  /** The problem type URI, e.g. https://connector-service.dev/problems/invalid-input. */
  readonly type: string;
  /** The type's last segment, e.g. `invalid-input`. */
  readonly slug: ProblemSlug | string;
  /** The HTTP status of the answer. */
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  /** The JSON pointer of the bad field (invalid-input, unsupported), else null. */
  readonly pointer: string | null;
  /** The service's request id (X-Request-Id): quote it when you ask about this call. */
  readonly requestId: string | null;
  /** The webhook rejection code (webhook-rejected), else null. */
  readonly reason: string | null;
  /** What is allowed instead (unknown-connector, unknown-flow), else null. */
  readonly allowed: readonly string[] | null;
  /** Seconds to wait before retrying, from Retry-After (overloaded), else null. */
  readonly retryAfter: number | null;
  /** The problem document as received. */
  readonly problem: Problem;

  constructor(problem: Problem, options: { retryAfter?: number | null } = {}) {
    const slug = String(problem.type ?? "").startsWith(TYPE_BASE)
      ? String(problem.type).slice(TYPE_BASE.length)
      : String(problem.type ?? "about:blank");
    const where = problem.pointer ? ` (at ${problem.pointer})` : "";
    super(`${slug}: ${problem.detail ?? problem.title ?? "problem"}${where}`);
    this.name = new.target.name;
    this.type = String(problem.type);
    this.slug = slug;
    this.status = Number(problem.status);
    this.title = String(problem.title ?? "");
    this.detail = String(problem.detail ?? "");
    this.pointer = problem.pointer ?? null;
    this.requestId = problem.request_id ?? null;
    this.reason = problem.reason ?? null;
    this.allowed = problem.allowed ?? null;
    this.retryAfter = options.retryAfter ?? null;
    this.problem = problem;
  }
}

/** The service could not be reached or its answer could not be read: whether the processor
 * acted is unknown (the service may have sent the call before the connection broke). */
export class ServiceUnreachableError extends Error {
  /** The service URL that was called (its path only; never a header). */
  readonly url: string;

  constructor(url: string, cause: unknown) {
    super(`the service at ${url} did not answer: the payment's state is unknown`, { cause });
    this.name = new.target.name;
    this.url = url;
  }
}

/** The service (or something in front of it) answered neither a Result nor a problem
 * document: whether the processor acted is unknown. */
export class UnexpectedResponseError extends Error {
  readonly url: string;
  readonly status: number;
  readonly contentType: string | null;
  /** The start of the body (at most 500 characters), for diagnosis. */
  readonly bodyStart: string;

  constructor(url: string, status: number, contentType: string | null, body: string) {
    super(`the service at ${url} answered HTTP ${status} (${contentType ?? "no content type"}), not a Result: the payment's state is unknown`);
    this.name = new.target.name;
    this.url = url;
    this.status = status;
    this.contentType = contentType;
    this.bodyStart = body.slice(0, 500);
  }
}
