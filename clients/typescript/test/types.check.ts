// Compile-time checks of the generated types against the build (`npm run build && npm run typecheck`): each `@ts-expect-error`
// line must be an error, so a type that grew too loose fails the build.
import {
  ConnectorClient,
  type ConnectorServiceError,
  type Flow,
  type FlowRequests,
  InvalidInputError,
  type PaymentMethod,
  type ProblemSlug,
  type Result,
  type WebhookResult,
} from "../dist/index.js";

const payments = new ConnectorClient({
  baseUrl: "http://127.0.0.1:8080",
  apiKey: "k",
  connector: "stripe",
  profile: "p",
});

export async function shapes(): Promise<void> {
  const result: Result = await payments.authorize({
    amount: 100,
    currency: "USD",
    payment_method: { type: "token", token: "pm_card_visa" },
  });
  const status: "captured" | "failed" | string = result.status;
  void status;
  // @ts-expect-error amount is required
  await payments.authorize({ currency: "USD", payment_method: { type: "token", token: "t" } });
  // @ts-expect-error a token payment method needs its token
  await payments.authorize({ amount: 1, currency: "USD", payment_method: { type: "token" } });
  // @ts-expect-error no such payment method type
  const wrong: PaymentMethod = { type: "cheque" };
  void wrong;
  const card: PaymentMethod = {
    type: "card",
    card: { number: "4242424242424242", exp_month: 12, exp_year: 2030 },
  };
  void card;
  // @ts-expect-error capture needs connector_transaction_id
  await payments.capture({ amount: 5 });
  // @ts-expect-error capture_method is an enum
  await payments.authorize({ amount: 1, currency: "USD", capture_method: "later", payment_method: card });
  // @ts-expect-error no unknown fields in a request
  await payments.get({ connector_transaction_id: "pi_1", extra: true });
  // @ts-expect-error Result.status is a unified status
  const bad: Result["status"] = "approved";
  void bad;
  const code: string | undefined = result.error?.code;
  void code;
  const events: WebhookResult = await payments.handleEvent("{}", { "stripe-signature": "t=1" });
  const type: string = events.events[0]?.type ?? "";
  void type;
  const flow: Flow = "get_refund";
  const request: FlowRequests[typeof flow] = { connector_refund_id: "re_1" };
  await payments.call(flow, request);
  // @ts-expect-error no such flow
  await payments.call("teleport", {});
  // @ts-expect-error a slug is one of the problem types
  const slug: ProblemSlug = "teapot";
  void slug;
  try {
    await payments.get({ connector_transaction_id: "pi_1" }, { idempotencyKey: "k", signal: AbortSignal.timeout(1000) });
  } catch (error) {
    if (error instanceof InvalidInputError) {
      const pointer: string | null = error.pointer;
      const base: ConnectorServiceError = error;
      void pointer;
      void base;
    }
  }
}
