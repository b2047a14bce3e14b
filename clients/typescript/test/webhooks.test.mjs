// Webhook deliveries through handleEvent: signed with Stripe's scheme by the test, verified by
// the service with the profile's webhook secret.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";

import { WebhookRejectedError } from "../dist/index.js";
import { client, env, paymentMethod, rejection } from "./env.mjs";

function sign(body, secret = env.CONNECTOR_STRIPE_WEBHOOK_SECRET, at = Math.floor(Date.now() / 1000)) {
  const v1 = createHmac("sha256", secret).update(`${at}.${body}`).digest("hex");
  return `t=${at},v1=${v1}`;
}

function delivery(paymentIntent) {
  return JSON.stringify({
    id: "evt_ts_client_1",
    object: "event",
    type: "payment_intent.succeeded",
    created: 1767355200,
    data: {
      object: {
        id: paymentIntent,
        object: "payment_intent",
        amount: 2500,
        currency: "usd",
        status: "succeeded",
        metadata: { reference: "order-ts-1" },
      },
    },
  });
}

test("a signed delivery answers its unified events", async () => {
  const payments = client();
  const authorized = await payments.authorize({
    amount: 2500,
    currency: "USD",
    payment_method: { type: "token", token: await paymentMethod() },
  });
  const body = delivery(authorized.connector_transaction_id);
  const found = await payments.handleEvent(body, {
    "content-type": "application/json",
    "stripe-signature": sign(body),
    host: "merchant.example", // the delivery's own transport headers are not forwarded
    "content-length": String(body.length),
  });
  assert.equal(found.events.length, 1);
  const [event] = found.events;
  assert.equal(event.type, "payment.captured");
  assert.equal(event.connector, "stripe");
  assert.equal(event.connector_event_type, "payment_intent.succeeded");
  assert.equal(event.event_id, "evt_ts_client_1");
  assert.equal(event.connector_transaction_id, authorized.connector_transaction_id);
  assert.equal(event.amount, 2500);
  assert.equal(event.reference, "order-ts-1");
  assert.equal(event.verified, true);
  assert.equal(typeof found.acknowledge.status, "number");
});

test("the raw body may come as bytes and the headers as a Headers object", async () => {
  const body = delivery("pi_ts_bytes");
  const headers = new Headers({ "Content-Type": "application/json", "Stripe-Signature": sign(body) });
  const found = await client().handleEvent(new TextEncoder().encode(body), headers);
  assert.equal(found.events[0].connector_transaction_id, "pi_ts_bytes");
});

test("a delivery signed with another secret is a WebhookRejectedError: bad_signature", async () => {
  const body = delivery("pi_ts_forged");
  const error = await rejection(
    client().handleEvent(body, { "stripe-signature": sign(body, "whsec_someoneElse") }),
  );
  assert.ok(error instanceof WebhookRejectedError, String(error));
  assert.equal(error.status, 400);
  assert.equal(error.reason, "bad_signature");
  assert.ok(!String(error).includes(env.CONNECTOR_STRIPE_WEBHOOK_SECRET));
});

test("a body changed after signing is rejected", async () => {
  const body = delivery("pi_ts_tampered");
  const error = await rejection(
    client().handleEvent(body.replace("2500", "9"), { "stripe-signature": sign(body) }),
  );
  assert.ok(error instanceof WebhookRejectedError, String(error));
  assert.equal(error.reason, "bad_signature");
});

test("an unsigned delivery is rejected: missing_signature", async () => {
  const error = await rejection(client().handleEvent(delivery("pi_ts_unsigned"), {}));
  assert.ok(error instanceof WebhookRejectedError, String(error));
  assert.equal(error.reason, "missing_signature");
});

test("a stale signature is rejected", async () => {
  const body = delivery("pi_ts_stale");
  const anHourAgo = Math.floor(Date.now() / 1000) - 3600;
  const error = await rejection(
    client().handleEvent(body, { "stripe-signature": sign(body, undefined, anHourAgo) }),
  );
  assert.ok(error instanceof WebhookRejectedError, String(error));
  assert.ok(error.reason, "a reason is given");
});
