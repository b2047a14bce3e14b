// What the client puts on the wire and how it reads answers, through an injected fetch (no
// service needed): the headers of each option, the delivery headers it forwards, Retry-After.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ConnectorClient, OverloadedError, UnexpectedResponseError } from "../dist/index.js";

function recorder(answer = { flow: "authorize", connector: "acme", status: "authorized" }) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, init, headers: Object.fromEntries(new Headers(init.headers)) });
    return typeof answer === "function"
      ? answer()
      : new Response(JSON.stringify(answer), { headers: { "content-type": "application/json" } });
  };
  return { calls, fetch };
}

test("credentials, environment, base URL, idempotency key and request id as headers", async () => {
  const { calls, fetch } = recorder();
  const payments = new ConnectorClient({
    baseUrl: "http://service.test:8080/prefix/",
    apiKey: "svc_key_1",
    connector: "acme",
    credentials: { api_key: "sk_1", account: "a b" },
    environment: "production",
    baseUrlOverride: "http://fake.test",
    fetch,
  });
  const body = { amount: 5, currency: "EUR", payment_method: { type: "token", token: "t" } };
  await payments.authorize(body, { idempotencyKey: "k-1", requestId: "r-1" });
  await payments.get({ connector_transaction_id: "p" }, { baseUrlOverride: "http://other.test" });
  const [first, second] = calls;
  assert.equal(first.url, "http://service.test:8080/prefix/v1/acme/authorize");
  assert.equal(first.init.method, "POST");
  assert.deepEqual(JSON.parse(first.init.body), body);
  assert.equal(first.headers.authorization, "Bearer svc_key_1");
  assert.deepEqual(JSON.parse(first.headers["x-connector-credentials"]), {
    api_key: "sk_1",
    account: "a b",
  });
  assert.equal(first.headers["x-connector-environment"], "production");
  assert.equal(first.headers["x-connector-base-url"], "http://fake.test");
  assert.equal(first.headers["idempotency-key"], "k-1");
  assert.equal(first.headers["x-request-id"], "r-1");
  assert.equal(first.headers["content-type"], "application/json");
  assert.equal(first.headers["x-connector-profile"], undefined);
  assert.equal(second.url, "http://service.test:8080/prefix/v1/acme/get");
  assert.equal(second.headers["x-connector-base-url"], "http://other.test");
  assert.equal(second.headers["idempotency-key"], undefined);
});

test("a profile is sent as X-Connector-Profile, without credentials", async () => {
  const { calls, fetch } = recorder();
  await new ConnectorClient({
    baseUrl: "http://s.test",
    apiKey: "k",
    connector: "acme",
    profile: "shop-eu",
    fetch,
  }).capture({ connector_transaction_id: "p" });
  assert.equal(calls[0].headers["x-connector-profile"], "shop-eu");
  assert.equal(calls[0].headers["x-connector-credentials"], undefined);
  assert.equal(calls[0].headers["x-connector-base-url"], undefined);
});

test("handleEvent forwards the processor's headers and body as is, not transport or service ones", async () => {
  const { calls, fetch } = recorder({ events: [], acknowledge: { status: 200, body: "", content_type: "text/plain" } });
  const payments = new ConnectorClient({
    baseUrl: "http://s.test",
    apiKey: "svc_key",
    connector: "acme",
    profile: "shop",
    fetch,
  });
  const raw = '{"id": "evt_1",  "spaced":   true}';
  await payments.handleEvent(raw, {
    "Acme-Signature": "t=1,v1=ab",
    "content-type": "application/json",
    "x-multi": ["a", "b"],
    host: "merchant.test",
    "content-length": "999",
    authorization: "Bearer processor-side",
    "x-connector-profile": "someone-else",
    "x-request-id": "theirs",
    skipped: undefined,
  });
  const [call] = calls;
  assert.equal(call.url, "http://s.test/v1/acme/events");
  assert.equal(call.init.body, raw); // byte for byte: the signature covers it
  assert.equal(call.headers["acme-signature"], "t=1,v1=ab");
  assert.equal(call.headers["content-type"], "application/json");
  assert.equal(call.headers["x-multi"], "a, b");
  assert.equal(call.headers.authorization, "Bearer svc_key");
  assert.equal(call.headers["x-connector-profile"], "shop");
  assert.equal(call.headers.host, undefined);
  assert.equal(call.headers["content-length"], undefined);
  assert.equal(call.headers["x-request-id"], undefined);
  assert.equal(call.headers.skipped, undefined);
});

test("Retry-After of an overloaded answer is read", async () => {
  const { fetch } = recorder(
    () =>
      new Response(
        JSON.stringify({
          type: "https://connector-service.dev/problems/overloaded",
          title: "Too many calls",
          status: 503,
          detail: "64 calls in flight",
        }),
        { status: 503, headers: { "content-type": "application/problem+json", "retry-after": "2" } },
      ),
  );
  const payments = new ConnectorClient({ baseUrl: "http://s.test", apiKey: "k", connector: "acme", profile: "p", fetch });
  await assert.rejects(payments.get({ connector_transaction_id: "p" }), (error) => {
    assert.ok(error instanceof OverloadedError, String(error));
    assert.equal(error.retryAfter, 2);
    assert.equal(error.status, 503);
    return true;
  });
});

test("a 200 that is not JSON is an UnexpectedResponseError", async () => {
  const { fetch } = recorder(() => new Response("ok", { headers: { "content-type": "text/plain" } }));
  const payments = new ConnectorClient({ baseUrl: "http://s.test", apiKey: "k", connector: "acme", profile: "p", fetch });
  await assert.rejects(payments.get({ connector_transaction_id: "p" }), UnexpectedResponseError);
});

test("the constructor refuses what it cannot use", () => {
  assert.throws(() => new ConnectorClient({ apiKey: "k", connector: "c" }), TypeError);
  assert.throws(() => new ConnectorClient({ baseUrl: "http://s", connector: "c" }), TypeError);
  assert.throws(() => new ConnectorClient({ baseUrl: "http://s", apiKey: "k" }), TypeError);
});

test("rawResponse: X-Connector-Raw-Response only when asked, and a raw not asked for is left out", async () => {
  const raw = { status_code: 200, headers: {}, body: '{"id":"p"}', truncated: false };
  const answer = { flow: "get", connector: "acme", status: "captured", raw };
  const { calls, fetch } = recorder(answer);
  const plain = new ConnectorClient({ baseUrl: "http://s.test", apiKey: "k", connector: "acme", fetch });
  const asked = new ConnectorClient({
    baseUrl: "http://s.test",
    apiKey: "k",
    connector: "acme",
    rawResponse: true,
    fetch,
  });
  const request = { connector_transaction_id: "p" };
  assert.equal((await plain.get(request)).raw, undefined);
  assert.deepEqual((await asked.get(request)).raw, raw);
  assert.deepEqual((await plain.get(request, { rawResponse: true })).raw, raw);
  assert.equal((await asked.get(request, { rawResponse: false })).raw, undefined);
  const sent = calls.map((c) => c.headers["x-connector-raw-response"]);
  assert.deepEqual(sent, [undefined, "true", "true", undefined]);
  assert.throws(
    () => new ConnectorClient({ baseUrl: "http://s.test", apiKey: "k", connector: "a", rawResponse: "yes", fetch }),
    TypeError,
  );
});
