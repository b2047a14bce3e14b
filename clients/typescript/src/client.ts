/**
 * ConnectorClient: the Connector Service's HTTP API over `fetch` (Node >= 18, browsers, Deno,
 * Bun), one method per flow. Every call that reached the processor resolves to a `Result`
 * (whatever its status, `failed` and `unresolved` included); a problem document rejects with a
 * ConnectorServiceError subclass (nothing was sent); see ./errors.ts for the rest.
 */

import {
  ConnectorServiceError,
  ServiceUnreachableError,
  UnexpectedResponseError,
} from "./errors.js";
import { PROBLEM_ERRORS } from "./problems.js";
import type {
  AcceptDisputeRequest,
  AuthorizeRequest,
  CaptureRequest,
  ChargeRecurringRequest,
  CompleteAuthorizeRequest,
  FindRequest,
  Flow,
  FlowRequests,
  GetDisputeRequest,
  GetRefundRequest,
  GetRequest,
  IncrementalAuthorizeRequest,
  ListConnectorsResponse,
  Problem,
  ProblemSlug,
  RefundRequest,
  Result,
  ReverseRequest,
  RevokeRecurringRequest,
  SetupRecurringRequest,
  SubmitEvidenceRequest,
  VerifyRequest,
  VoidRequest,
  WebhookResult,
} from "./types.js";

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface ClientOptions {
  /** The service, e.g. `https://payments.internal:8080` (a path prefix is kept). */
  baseUrl: string;
  /** A bearer API key of the service. */
  apiKey: string;
  /** The connector to call, e.g. `stripe` (see listConnectors()). */
  connector: string;
  /** A named processor account from the service's config (X-Connector-Profile)... */
  profile?: string;
  /** ...or the processor credentials themselves (X-Connector-Credentials): give one. */
  credentials?: Readonly<Record<string, string>>;
  /** The spec's environment for `credentials` (default: the service's, sandbox). */
  environment?: string;
  /** Send to this processor base URL instead of the spec's: only a service started in test
   * mode (`connector serve --allow-base-url`) honours it. A call's option overrides it. */
  baseUrlOverride?: string;
  /** Ask for the processor's own answer in each Result's `raw` (X-Connector-Raw-Response:
   * scrubbed of secrets and card data, the body bounded, by the service). Default false: a
   * Result then never carries one. A call's option overrides it. */
  rawResponse?: boolean;
  /** The fetch to use (default: globalThis.fetch). */
  fetch?: FetchLike;
}

export interface CallOptions {
  /** The idempotency key of this call (Idempotency-Key). Absent: the body's, else one the
   * service generates; the Result's `idempotency_key` holds the one used. */
  idempotencyKey?: string;
  /** A request id for the service's logs (X-Request-Id). */
  requestId?: string;
  /** Aborts the HTTP call; the payment's state is then unknown if it had been sent. */
  signal?: AbortSignal;
  /** Test mode only: this call's processor base URL (X-Connector-Base-Url). */
  baseUrlOverride?: string;
  /** This call's `raw` wish (X-Connector-Raw-Response), over the client's rawResponse. */
  rawResponse?: boolean;
}

/** Headers a webhook delivery carries that are the transport's or the service's, not the
 * processor's: never forwarded. */
const NOT_FORWARDED = new Set([
  "authorization",
  "connection",
  "content-length",
  "expect",
  "host",
  "keep-alive",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "x-request-id",
]);

export type WebhookHeaders =
  | Headers
  | Iterable<readonly [string, string]>
  | Readonly<Record<string, string | readonly string[] | undefined>>;

export type WebhookBody = string | Uint8Array | ArrayBuffer;

export class ConnectorClient {
  readonly baseUrl: string;
  readonly connector: string;
  readonly profile: string | null;
  readonly environment: string | null;
  // Private fields: never shown by console.log, util.inspect or JSON.stringify.
  readonly #apiKey: string;
  readonly #credentials: string | null;
  readonly #baseUrlOverride: string | null;
  readonly #rawResponse: boolean;
  readonly #fetch: FetchLike;

  constructor(options: ClientOptions) {
    if (!options || typeof options.baseUrl !== "string" || options.baseUrl === "") {
      throw new TypeError("ConnectorClient: baseUrl is required");
    }
    if (typeof options.apiKey !== "string" || options.apiKey === "") {
      throw new TypeError("ConnectorClient: apiKey is required");
    }
    if (typeof options.connector !== "string" || options.connector === "") {
      throw new TypeError("ConnectorClient: connector is required");
    }
    if (options.profile !== undefined && options.credentials !== undefined) {
      throw new TypeError("ConnectorClient: give profile or credentials, not both");
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.connector = options.connector;
    this.profile = options.profile ?? null;
    this.environment = options.environment ?? null;
    this.#apiKey = options.apiKey;
    this.#credentials =
      options.credentials === undefined ? null : JSON.stringify(options.credentials);
    this.#baseUrlOverride = options.baseUrlOverride ?? null;
    if (options.rawResponse !== undefined && typeof options.rawResponse !== "boolean") {
      throw new TypeError("ConnectorClient: rawResponse must be true or false");
    }
    this.#rawResponse = options.rawResponse ?? false;
    const found = options.fetch ?? (globalThis.fetch as FetchLike | undefined);
    if (typeof found !== "function") {
      throw new TypeError("ConnectorClient: no fetch (Node >= 18, or pass options.fetch)");
    }
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** Authorize a payment, capturing it now or later. */
  authorize(request: AuthorizeRequest, options?: CallOptions): Promise<Result> {
    return this.call("authorize", request, options);
  }

  /** Finish an authorization after the customer returns from a redirect or 3-D Secure. */
  completeAuthorize(request: CompleteAuthorizeRequest, options?: CallOptions): Promise<Result> {
    return this.call("complete_authorize", request, options);
  }

  /** Capture an authorized payment, in full or in part. */
  capture(request: CaptureRequest, options?: CallOptions): Promise<Result> {
    return this.call("capture", request, options);
  }

  /** Cancel an authorization that was not captured. */
  void(request: VoidRequest, options?: CallOptions): Promise<Result> {
    return this.call("void", request, options);
  }

  /** Refund a captured payment, in full or in part. */
  refund(request: RefundRequest, options?: CallOptions): Promise<Result> {
    return this.call("refund", request, options);
  }

  /** Read a payment's current status from the processor. */
  get(request: GetRequest, options?: CallOptions): Promise<Result> {
    return this.call("get", request, options);
  }

  /** Read a refund's current status from the processor. */
  getRefund(request: GetRefundRequest, options?: CallOptions): Promise<Result> {
    return this.call("get_refund", request, options);
  }

  /** Store a customer's payment method for later merchant-initiated charges. */
  setupRecurring(request: SetupRecurringRequest, options?: CallOptions): Promise<Result> {
    return this.call("setup_recurring", request, options);
  }

  /** Charge a stored payment method or mandate without the customer present. */
  chargeRecurring(request: ChargeRecurringRequest, options?: CallOptions): Promise<Result> {
    return this.call("charge_recurring", request, options);
  }

  /** Look payments up by the merchant's reference (the way back from a lost answer). */
  find(request: FindRequest, options?: CallOptions): Promise<Result> {
    return this.call("find", request, options);
  }

  /** Check a payment method without charging it (a zero-amount authorization). */
  verify(request: VerifyRequest, options?: CallOptions): Promise<Result> {
    return this.call("verify", request, options);
  }

  /** Raise an authorized amount; the result's authorized_amount is the new total. */
  incrementalAuthorize(
    request: IncrementalAuthorizeRequest,
    options?: CallOptions,
  ): Promise<Result> {
    return this.call("incremental_authorize", request, options);
  }

  /** Undo a payment whatever its state: voided if uncaptured, refunded if captured. */
  reverse(request: ReverseRequest, options?: CallOptions): Promise<Result> {
    return this.call("reverse", request, options);
  }

  /** Delete a stored payment method or revoke a mandate. */
  revokeRecurring(request: RevokeRecurringRequest, options?: CallOptions): Promise<Result> {
    return this.call("revoke_recurring", request, options);
  }

  /** Read a dispute: status, amount, reason, stage and response deadline. */
  getDispute(request: GetDisputeRequest, options?: CallOptions): Promise<Result> {
    return this.call("get_dispute", request, options);
  }

  /** Concede a dispute. */
  acceptDispute(request: AcceptDisputeRequest, options?: CallOptions): Promise<Result> {
    return this.call("accept_dispute", request, options);
  }

  /** Contest a dispute with evidence (texts and files). */
  submitEvidence(request: SubmitEvidenceRequest, options?: CallOptions): Promise<Result> {
    return this.call("submit_evidence", request, options);
  }

  /** Any flow by name: POST /v1/{connector}/{flow}. */
  async call<F extends Flow>(
    flow: F,
    request: FlowRequests[F],
    options: CallOptions = {},
  ): Promise<Result> {
    const headers = this.#headers(options);
    headers.set("Content-Type", "application/json");
    if (options.idempotencyKey !== undefined) {
      headers.set("Idempotency-Key", options.idempotencyKey);
    }
    const raw = options.rawResponse ?? this.#rawResponse;
    if (raw) headers.set("X-Connector-Raw-Response", "true");
    const url = `${this.baseUrl}/v1/${encodeURIComponent(this.connector)}/${flow}`;
    const result = (await this.#send(url, "POST", headers, JSON.stringify(request), options)) as
      Result;
    // A raw not asked for (a misconfigured or newer service) is left out.
    if (!raw && result !== null && typeof result === "object") delete result.raw;
    return result;
  }

  /**
   * Verify and read a processor's webhook delivery: pass its raw body (exactly as received:
   * the signature covers the bytes) and its headers. Needs a `profile` (its webhook secret).
   * A delivery that fails verification rejects with WebhookRejectedError (`reason` says why):
   * answer the processor with an error then, so it retries.
   */
  async handleEvent(
    body: WebhookBody,
    headers: WebhookHeaders,
    options: Omit<CallOptions, "idempotencyKey"> = {},
  ): Promise<WebhookResult> {
    const forwarded = this.#headers(options);
    for (const [name, value] of headerPairs(headers)) {
      const lower = name.toLowerCase();
      if (!NOT_FORWARDED.has(lower) && !lower.startsWith("x-connector-")) {
        forwarded.append(name, value);
      }
    }
    const url = `${this.baseUrl}/v1/${encodeURIComponent(this.connector)}/events`;
    const payload = typeof body === "string" ? body : (body as BodyInit);
    return (await this.#send(url, "POST", forwarded, payload, options)) as WebhookResult;
  }

  /** The service's bundled connectors: flows, capabilities (the feature matrix as data). */
  async listConnectors(
    options: Pick<CallOptions, "requestId" | "signal"> = {},
  ): Promise<ListConnectorsResponse> {
    const headers = new Headers({ Authorization: `Bearer ${this.#apiKey}` });
    headers.set("Accept", "application/json, application/problem+json");
    if (options.requestId !== undefined) headers.set("X-Request-Id", options.requestId);
    const url = `${this.baseUrl}/v1/connectors`;
    return (await this.#send(url, "GET", headers, undefined, options)) as ListConnectorsResponse;
  }

  /** Shown by console.log and util.inspect: no key, no credentials. */
  toJSON(): Record<string, unknown> {
    return {
      baseUrl: this.baseUrl,
      connector: this.connector,
      profile: this.profile,
      credentials: this.#credentials === null ? null : "[redacted]",
    };
  }

  #headers(options: CallOptions): Headers {
    const headers = new Headers();
    headers.set("Authorization", `Bearer ${this.#apiKey}`);
    headers.set("Accept", "application/json, application/problem+json");
    if (this.profile !== null) headers.set("X-Connector-Profile", this.profile);
    if (this.#credentials !== null) headers.set("X-Connector-Credentials", this.#credentials);
    if (this.environment !== null) headers.set("X-Connector-Environment", this.environment);
    const baseUrl = options.baseUrlOverride ?? this.#baseUrlOverride;
    if (baseUrl !== null) headers.set("X-Connector-Base-Url", baseUrl);
    if (options.requestId !== undefined) headers.set("X-Request-Id", options.requestId);
    return headers;
  }

  async #send(
    url: string,
    method: string,
    headers: Headers,
    body: BodyInit | undefined,
    options: Pick<CallOptions, "signal">,
  ): Promise<unknown> {
    let response: Response;
    let text: string;
    try {
      const init: RequestInit = { method, headers };
      if (body !== undefined) init.body = body;
      if (options.signal !== undefined) init.signal = options.signal;
      response = await this.#fetch(url, init);
      text = await response.text();
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason ?? error;
      throw new ServiceUnreachableError(url, error);
    }
    return readAnswer(url, response, text);
  }
}

/** The parsed answer, or the error it stands for. */
function readAnswer(url: string, response: Response, text: string): unknown {
  const contentType = response.headers.get("content-type");
  const media = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  let parsed: unknown;
  try {
    parsed = media.endsWith("json") ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (media === "application/problem+json" && isProblem(parsed)) {
    throw problemError(parsed, response.headers);
  }
  if (response.status === 200 && media === "application/json" && parsed !== undefined) {
    return parsed;
  }
  throw new UnexpectedResponseError(url, response.status, contentType, text);
}

function isProblem(value: unknown): value is Problem {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { type?: unknown }).type === "string" &&
    typeof (value as { status?: unknown }).status === "number"
  );
}

/** The typed error of a problem document: its type's class, or the base for an unknown type. */
export function problemError(problem: Problem, headers?: Headers): ConnectorServiceError {
  const slug = String(problem.type).split("/").pop() as ProblemSlug;
  const known = Object.hasOwn(PROBLEM_ERRORS, slug) ? PROBLEM_ERRORS[slug] : undefined;
  const ErrorClass =
    known !== undefined && problem.type.endsWith(`/problems/${slug}`)
      ? known
      : ConnectorServiceError;
  const retry = headers?.get("retry-after");
  const retryAfter = retry != null && /^\d+$/.test(retry) ? Number(retry) : null;
  return new ErrorClass(problem, { retryAfter });
}

function* headerPairs(headers: WebhookHeaders): Iterable<[string, string]> {
  if (typeof Headers !== "undefined" && headers instanceof Headers) {
    for (const [name, value] of headers) yield [name, value];
    return;
  }
  if (Symbol.iterator in Object(headers)) {
    for (const [name, value] of headers as Iterable<readonly [string, string]>) {
      yield [name, value];
    }
    return;
  }
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  for (const name of Object.keys(record)) {
    const value = record[name];
    if (value === undefined) continue;
    yield [name, typeof value === "string" ? value : value.join(", ")];
  }
}
