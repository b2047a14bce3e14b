// Problem documents become typed errors; no answer and odd answers have their own classes; no
// error shows a key or a credential.
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { test } from "node:test";
import { inspect } from "node:util";

import {
  ConnectorClient,
  ConnectorServiceError,
  InvalidInputError,
  PROBLEM_ERRORS,
  PROBLEM_TYPES,
  ProfileNotAllowedError,
  ServiceUnreachableError,
  UnauthenticatedError,
  UnexpectedResponseError,
  UnknownConnectorError,
  UnknownFlowError,
  problemError,
} from "../dist/index.js";
import { client, env, paymentMethod, rejection } from "./env.mjs";

const SECRETS = [env.CONNECTOR_SERVICE_API_KEY, env.CONNECTOR_SERVICE_LIMITED_KEY, env.CONNECTOR_STRIPE_KEY];

function assertNoSecret(error) {
  const shown = [String(error), error.stack, inspect(error, { depth: 10 }), JSON.stringify(error)];
  for (const text of shown) {
    for (const secret of SECRETS) assert.ok(!String(text).includes(secret), "a secret leaked");
  }
}

test("an invalid field is an InvalidInputError with its JSON pointer and the request id", async () => {
  const error = await rejection(
    client().authorize(
      { amount: -5, currency: "USD", payment_method: { type: "token", token: "pm_card_visa" } },
      { requestId: "ts-invalid.1" },
    ),
  );
  assert.ok(error instanceof InvalidInputError, String(error));
  assert.ok(error instanceof ConnectorServiceError);
  assert.equal(error.name, "InvalidInputError");
  assert.equal(error.status, 422);
  assert.equal(error.type, "https://connector-service.dev/problems/invalid-input");
  assert.equal(error.slug, "invalid-input");
  assert.equal(error.pointer, "/amount");
  assert.equal(error.requestId, "ts-invalid.1");
  assert.ok(error.detail.length > 0);
  assert.match(error.message, /\/amount/);
});

test("a missing nested field points at it", async () => {
  const error = await rejection(
    client().authorize({ amount: 100, currency: "USD", payment_method: { type: "card" } }),
  );
  assert.ok(error instanceof InvalidInputError, String(error));
  assert.match(error.pointer, /^\/payment_method/);
});

test("no API key or a wrong one is an UnauthenticatedError (401)", async () => {
  const wrong = client({ apiKey: "svc_test_notAKey" });
  const error = await rejection(wrong.get({ connector_transaction_id: "pi_x" }));
  assert.ok(error instanceof UnauthenticatedError, String(error));
  assert.equal(error.status, 401);
  assert.ok(error.requestId);
  const listing = await rejection(wrong.listConnectors());
  assert.ok(listing instanceof UnauthenticatedError, String(listing));
  assertNoSecret(error);
});

test("a key limited to a profile may not send credentials (403)", async () => {
  const limited = client({
    apiKey: env.CONNECTOR_SERVICE_LIMITED_KEY,
    credentials: { api_key: env.CONNECTOR_STRIPE_KEY },
  });
  const error = await rejection(limited.get({ connector_transaction_id: "pi_x" }));
  assert.ok(error instanceof ProfileNotAllowedError, String(error));
  assert.equal(error.status, 403);
  assertNoSecret(error);
});

test("a key limited to a profile may use that profile, and no other", async () => {
  const limited = client({ apiKey: env.CONNECTOR_SERVICE_LIMITED_KEY });
  const result = await limited.authorize({
    amount: 200,
    currency: "USD",
    payment_method: { type: "token", token: await paymentMethod() },
  });
  assert.equal(result.status, "captured", JSON.stringify(result));
  const other = client({ apiKey: env.CONNECTOR_SERVICE_LIMITED_KEY, profile: "someone-else" });
  const error = await rejection(other.get({ connector_transaction_id: "pi_x" }));
  assert.ok(error instanceof ProfileNotAllowedError, String(error));
});

test("an unknown connector is an UnknownConnectorError (404) listing the known ones", async () => {
  const error = await rejection(
    client({ connector: "no-such-processor" }).get({ connector_transaction_id: "pi_x" }),
  );
  assert.ok(error instanceof UnknownConnectorError, String(error));
  assert.equal(error.status, 404);
  assert.ok(error.allowed.includes("stripe"));
});

test("an unknown flow is an UnknownFlowError (404)", async () => {
  const error = await rejection(client().call("no_such_flow", {}));
  assert.ok(error instanceof UnknownFlowError, String(error));
  assert.equal(error.status, 404);
});

test("profile and credentials together are refused before any call", () => {
  assert.throws(
    () => client({ profile: "p", credentials: { api_key: env.CONNECTOR_STRIPE_KEY } }),
    (error) => error instanceof TypeError && !error.message.includes(env.CONNECTOR_STRIPE_KEY),
  );
});

test("a service that does not answer is a ServiceUnreachableError, holding no secret", async () => {
  const port = await new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
  const away = new ConnectorClient({
    baseUrl: `http://127.0.0.1:${port}`,
    apiKey: env.CONNECTOR_SERVICE_API_KEY,
    connector: "stripe",
    credentials: { api_key: env.CONNECTOR_STRIPE_KEY },
  });
  const error = await rejection(away.get({ connector_transaction_id: "pi_x" }));
  assert.ok(error instanceof ServiceUnreachableError, String(error));
  assert.ok(!(error instanceof ConnectorServiceError), "not a problem: the state is unknown");
  assert.match(error.message, /unknown/);
  assert.ok(error.cause);
  assertNoSecret(error);
  assertNoSecret(away); // the client itself shows neither key nor credentials
  assert.ok(!JSON.stringify(away).includes(env.CONNECTOR_STRIPE_KEY));
});

test("an answer that is neither a Result nor a problem is an UnexpectedResponseError", async () => {
  const proxy = async () =>
    new Response("<html>bad gateway</html>", {
      status: 502,
      headers: { "content-type": "text/html" },
    });
  const error = await rejection(client({ fetch: proxy }).get({ connector_transaction_id: "pi_x" }));
  assert.ok(error instanceof UnexpectedResponseError, String(error));
  assert.equal(error.status, 502);
  assert.match(error.bodyStart, /bad gateway/);
});

test("an abort through the caller's signal rejects with the signal's reason", async () => {
  const controller = new AbortController();
  controller.abort(new Error("caller gave up"));
  const error = await rejection(
    client().get({ connector_transaction_id: "pi_x" }, { signal: controller.signal }),
  );
  assert.equal(error.message, "caller gave up");
});

test("every problem type has its error class; an unknown type is the base class", () => {
  assert.ok(PROBLEM_TYPES.length > 10);
  for (const info of PROBLEM_TYPES) {
    const ErrorClass = PROBLEM_ERRORS[info.slug];
    assert.equal(ErrorClass.slug, info.slug);
    assert.equal(ErrorClass.status, info.status);
    const error = problemError({ type: info.type, title: info.title, status: info.status, detail: "d" });
    assert.ok(error instanceof ErrorClass && error instanceof ConnectorServiceError);
    assert.equal(error.slug, info.slug);
  }
  const novel = problemError({
    type: "https://connector-service.dev/problems/something-new",
    title: "t",
    status: 418,
    detail: "d",
  });
  assert.equal(novel.constructor, ConnectorServiceError);
  assert.equal(novel.slug, "something-new");
});

test("the running service's problem types are the ones this client was generated from", async () => {
  const response = await fetch(`${env.CONNECTOR_SERVICE_URL}/openapi.json`);
  const document = await response.json();
  assert.deepEqual(document["x-problem-types"], JSON.parse(JSON.stringify(PROBLEM_TYPES)));
});
