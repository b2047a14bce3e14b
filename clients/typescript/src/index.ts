/**
 * The Connector Service's TypeScript client: `new ConnectorClient({...}).authorize(...)`.
 * Types are generated from the service's OpenAPI document (./types.ts, ./problems.ts).
 */

export { ConnectorClient, problemError } from "./client.js";
export type {
  CallOptions,
  ClientOptions,
  FetchLike,
  WebhookBody,
  WebhookHeaders,
} from "./client.js";
export {
  ConnectorServiceError,
  ServiceUnreachableError,
  UnexpectedResponseError,
} from "./errors.js";
export * from "./problems.js";
export * from "./types.js";
