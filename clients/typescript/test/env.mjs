// What the live tests share: the running service's coordinates (from tools/service_harness.py)
// and small helpers. A run outside the harness fails here instead of skipping.
import { ConnectorClient } from "../dist/index.js";

const NAMES = [
  "CONNECTOR_SERVICE_URL",
  "CONNECTOR_SERVICE_API_KEY",
  "CONNECTOR_SERVICE_LIMITED_KEY",
  "CONNECTOR_SERVICE_PROFILE",
  "CONNECTOR_STRIPE_KEY",
  "CONNECTOR_STRIPE_BASE_URL",
  "CONNECTOR_STRIPE_WEBHOOK_SECRET",
];
const missing = NAMES.filter((name) => !process.env[name]);
if (missing.length > 0) {
  throw new Error(
    `missing ${missing.join(", ")}: run the tests under the service harness, ` +
      "python tools/service_harness.py -- node --test clients/typescript/test/",
  );
}

export const env = Object.fromEntries(NAMES.map((name) => [name, process.env[name]]));

/** A client of the harness's service for localstripe's account, by profile unless overridden. */
export function client(options = {}) {
  return new ConnectorClient({
    baseUrl: env.CONNECTOR_SERVICE_URL,
    apiKey: env.CONNECTOR_SERVICE_API_KEY,
    connector: "stripe",
    ...(options.credentials ? {} : { profile: env.CONNECTOR_SERVICE_PROFILE }),
    baseUrlOverride: env.CONNECTOR_STRIPE_BASE_URL,
    ...options,
  });
}

/** A localstripe PaymentMethod for a test card (a merchant's front end does this with
 * Stripe.js: tokenization is not one of the service's flows). */
export async function paymentMethod(number = "4242424242424242") {
  const response = await fetch(`${env.CONNECTOR_STRIPE_BASE_URL}/v1/payment_methods`, {
    method: "POST",
    headers: {
      Authorization: `Basic ${Buffer.from(`${env.CONNECTOR_STRIPE_KEY}:`).toString("base64")}`,
      "Content-Type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({
      type: "card",
      "card[number]": number,
      "card[exp_month]": "12",
      "card[exp_year]": "2030",
      "card[cvc]": "123",
    }),
  });
  if (!response.ok) throw new Error(`localstripe answered ${response.status}`);
  return (await response.json()).id;
}

/** The rejection of `promise` (fails the test if it resolves). */
export async function rejection(promise) {
  try {
    const value = await promise;
    throw Object.assign(new Error(`expected a rejection, got ${JSON.stringify(value)}`), {
      unexpected: true,
    });
  } catch (error) {
    if (error?.unexpected) throw error;
    return error;
  }
}
