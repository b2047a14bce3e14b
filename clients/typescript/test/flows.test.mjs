// The flows end to end: this client -> the service -> localstripe, by profile and by credentials.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";

import { ConnectorClient, FLOWS } from "../dist/index.js";
import { client, env, paymentMethod } from "./env.mjs";

async function authorizeCaptureRefundGet(payments) {
  const authorized = await payments.authorize({
    amount: 1099,
    currency: "EUR",
    capture_method: "manual",
    payment_method: { type: "token", token: await paymentMethod() },
    metadata: { order: "A-1" },
  });
  assert.equal(authorized.status, "authorized", JSON.stringify(authorized));
  assert.equal(authorized.flow, "authorize");
  assert.equal(authorized.connector, "stripe");
  assert.match(authorized.connector_transaction_id, /^pi_/);
  assert.equal(authorized.amount, 1099);
  assert.equal(authorized.currency, "EUR");
  assert.ok(authorized.idempotency_key, "a key is generated and returned");
  const id = authorized.connector_transaction_id;

  const captured = await payments.capture({ connector_transaction_id: id });
  assert.equal(captured.status, "captured", JSON.stringify(captured));
  assert.equal(captured.connector_transaction_id, id);

  const refunded = await payments.refund({
    connector_transaction_id: id,
    amount: 300,
    currency: "EUR",
  });
  assert.equal(refunded.status, "succeeded", JSON.stringify(refunded));
  assert.match(refunded.connector_refund_id, /^re_/);
  assert.equal(refunded.amount, 300);

  const fetched = await payments.get({ connector_transaction_id: id });
  assert.equal(fetched.status, "captured");
  assert.equal(fetched.flow, "get");

  const refund = await payments.getRefund({ connector_refund_id: refunded.connector_refund_id });
  assert.equal(refund.status, "succeeded");
  assert.equal(refund.connector_transaction_id, id);
}

test("authorize, capture, refund, get by a named profile", async () => {
  await authorizeCaptureRefundGet(client());
});

test("authorize, capture, refund, get by the caller's own credentials", async () => {
  await authorizeCaptureRefundGet(
    client({ credentials: { api_key: env.CONNECTOR_STRIPE_KEY }, environment: "sandbox" }),
  );
});

test("authorize then void", async () => {
  const payments = client();
  const authorized = await payments.authorize({
    amount: 500,
    currency: "USD",
    capture_method: "manual",
    payment_method: { type: "token", token: await paymentMethod() },
  });
  assert.equal(authorized.status, "authorized");
  const voided = await payments.void({
    connector_transaction_id: authorized.connector_transaction_id,
  });
  assert.equal(voided.status, "voided", JSON.stringify(voided));
});

test("a declined card is a Result with status failed, not an error", async () => {
  const result = await client().authorize({
    amount: 700,
    currency: "USD",
    payment_method: { type: "token", token: await paymentMethod("4000000000000341") },
  });
  assert.equal(result.status, "failed", JSON.stringify(result));
  assert.equal(result.error.code, "card_declined");
  assert.equal(result.error.http_status, 402);
});

test("the idempotency key given as an option is sent and echoed in the Result", async () => {
  const key = `ts-${randomUUID()}`;
  const result = await client().authorize(
    {
      amount: 1500,
      currency: "GBP",
      payment_method: { type: "token", token: await paymentMethod() },
    },
    { idempotencyKey: key, requestId: "ts-client-test.1" },
  );
  assert.equal(result.status, "captured", JSON.stringify(result));
  assert.equal(result.idempotency_key, key);
});

test("the idempotency key in the body is kept too", async () => {
  const key = `ts-body-${randomUUID()}`;
  const result = await client().authorize({
    amount: 1600,
    currency: "GBP",
    idempotency_key: key,
    payment_method: { type: "token", token: await paymentMethod() },
  });
  assert.equal(result.idempotency_key, key);
});

test("the generic call() reaches any flow by name", async () => {
  const result = await client().call("get", { connector_transaction_id: "pi_doesnotexist" });
  assert.equal(result.status, "unresolved"); // a refused read says nothing about the payment
  assert.equal(result.error.code, "not_found");
});

test("every flow of the OpenAPI document has a method on the client", () => {
  const camel = (flow) => flow.replace(/_([a-z])/g, (_, letter) => letter.toUpperCase());
  assert.ok(FLOWS.length >= 10);
  for (const flow of FLOWS) {
    assert.equal(typeof ConnectorClient.prototype[camel(flow)], "function", flow);
  }
});

test("listConnectors answers the bundled connectors", async () => {
  const rows = await client().listConnectors();
  assert.ok(Array.isArray(rows));
  assert.ok(rows.some((row) => JSON.stringify(row).includes('"stripe"')));
});
