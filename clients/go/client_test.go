package connector_test

// Live tests: the real service in front of localstripe, both started by
//
//	python tools/service_harness.py -- go test ./...
//
// which sets the CONNECTOR_SERVICE_* and CONNECTOR_STRIPE_* variables read here. Without them
// every test here fails: none is skipped.

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"connector-service.dev/connector"
)

type liveEnv struct {
	url, apiKey, limitedKey, profile, stripeKey, stripeURL, webhookSecret string
}

func live(t *testing.T) liveEnv {
	t.Helper()
	get := func(name string) string {
		value := os.Getenv(name)
		if value == "" {
			t.Fatalf("%s is not set: run these tests under the harness "+
				"(python tools/service_harness.py -- go test ./...)", name)
		}
		return value
	}
	return liveEnv{
		url:           get("CONNECTOR_SERVICE_URL"),
		apiKey:        get("CONNECTOR_SERVICE_API_KEY"),
		limitedKey:    get("CONNECTOR_SERVICE_LIMITED_KEY"),
		profile:       get("CONNECTOR_SERVICE_PROFILE"),
		stripeKey:     get("CONNECTOR_STRIPE_KEY"),
		stripeURL:     get("CONNECTOR_STRIPE_BASE_URL"),
		webhookSecret: get("CONNECTOR_STRIPE_WEBHOOK_SECRET"),
	}
}

func newClient(t *testing.T, url, key string) *connector.Client {
	t.Helper()
	client, err := connector.New(url, key)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return client
}

// stripe is the stripe connector through the harness's profile, sent to localstripe.
func (e liveEnv) stripe(t *testing.T, opts ...connector.CallOption) *connector.Connector {
	base := []connector.CallOption{connector.WithProfile(e.profile), connector.WithProcessorBaseURL(e.stripeURL)}
	return newClient(t, e.url, e.apiKey).Connector("stripe", append(base, opts...)...)
}

func ctxFor(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func unique(t *testing.T, prefix string) string {
	t.Helper()
	raw := make([]byte, 8)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	return prefix + hex.EncodeToString(raw)
}

func card() connector.PaymentMethod {
	return connector.PaymentMethod{Type: connector.PaymentMethodTypeToken, Token: "pm_card_visa"}
}

func wantStatus(t *testing.T, what string, result *connector.Result, err error, want connector.ResultStatus) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if result.Status != want {
		t.Fatalf("%s: status %q, want %q (error %+v)", what, result.Status, want, result.Error)
	}
}

func wantProblem(t *testing.T, err error, kind *connector.ProblemKind, status int64) *connector.ProblemError {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", kind.Slug)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("error %v is not %s", err, kind.Slug)
	}
	var problem *connector.ProblemError
	if !errors.As(err, &problem) {
		t.Fatalf("error %T is not a *ProblemError", err)
	}
	if problem.Status != status || problem.Kind() != kind || problem.Slug() != kind.Slug {
		t.Fatalf("problem %+v, want %s with status %d", problem.Problem, kind.Slug, status)
	}
	if problem.RequestID == "" || problem.Detail == "" || problem.Title != kind.Title {
		t.Fatalf("problem without its request id, detail or title: %+v", problem.Problem)
	}
	return problem
}

func TestAuthorizeCaptureRefundGetWithProfile(t *testing.T) {
	env := live(t)
	ctx := ctxFor(t)
	stripe := env.stripe(t)
	reference := unique(t, "go-order-")

	authorized, err := stripe.Authorize(ctx, &connector.AuthorizeRequest{
		Amount:        1500,
		Currency:      "USD",
		PaymentMethod: card(),
		CaptureMethod: connector.CaptureMethodManual,
		Reference:     reference,
		Metadata:      connector.Metadata{"reference": reference},
	})
	wantStatus(t, "authorize", authorized, err, connector.ResultStatusAuthorized)
	if authorized.Flow != "authorize" || authorized.Connector != "stripe" {
		t.Fatalf("authorize answered flow %q connector %q", authorized.Flow, authorized.Connector)
	}
	id := authorized.ConnectorTransactionID
	if id == "" || authorized.Amount == nil || *authorized.Amount != 1500 || authorized.IdempotencyKey == "" {
		t.Fatalf("authorize result lacks its id, amount or idempotency key: %+v", authorized)
	}

	captured, err := stripe.Capture(ctx, &connector.CaptureRequest{ConnectorTransactionID: id})
	wantStatus(t, "capture", captured, err, connector.ResultStatusCaptured)
	if captured.ConnectorTransactionID != id {
		t.Fatalf("capture is about %q, not %q", captured.ConnectorTransactionID, id)
	}

	refunded, err := stripe.Refund(ctx, &connector.RefundRequest{
		ConnectorTransactionID: id,
		Amount:                 connector.Ptr[connector.Amount](500),
		Currency:               "USD",
	})
	wantStatus(t, "refund", refunded, err, connector.ResultStatusSucceeded)
	if refunded.ConnectorRefundID == "" || refunded.Amount == nil || *refunded.Amount != 500 {
		t.Fatalf("refund result lacks its refund id or amount: %+v", refunded)
	}

	got, err := stripe.Get(ctx, &connector.GetRequest{ConnectorTransactionID: id})
	wantStatus(t, "get", got, err, connector.ResultStatusCaptured)
	if got.ConnectorTransactionID != id || got.IdempotencyKey != "" {
		t.Fatalf("get (a read) answered %+v", got)
	}

	// localstripe has no search: find reaches it and answers a Result, unresolved there.
	found, err := stripe.Find(ctx, &connector.FindRequest{Reference: reference})
	if err != nil || found.Flow != "find" {
		t.Fatalf("find: %v %+v", err, found)
	}
	if found.Status == connector.ResultStatusFound &&
		(len(found.Matches) != 1 || found.Matches[0].ConnectorTransactionID != id) {
		t.Fatalf("find by reference %q: %+v", reference, found.Matches)
	} else if found.Status != connector.ResultStatusFound && found.Status != connector.ResultStatusUnresolved {
		t.Fatalf("find: status %q", found.Status)
	}

	refund, err := stripe.GetRefund(ctx, &connector.GetRefundRequest{ConnectorRefundID: refunded.ConnectorRefundID})
	wantStatus(t, "get_refund", refund, err, connector.ResultStatusSucceeded)
	if refund.ConnectorRefundID != refunded.ConnectorRefundID {
		t.Fatalf("get_refund is about %q, not %q", refund.ConnectorRefundID, refunded.ConnectorRefundID)
	}
}

func TestAuthorizeVoidGetWithCredentials(t *testing.T) {
	env := live(t)
	ctx := ctxFor(t)
	stripe := newClient(t, env.url, env.apiKey).Connector("stripe",
		connector.WithCredentials(map[string]string{"api_key": env.stripeKey}),
		connector.WithEnvironment("sandbox"),
		connector.WithProcessorBaseURL(env.stripeURL))

	authorized, err := stripe.Authorize(ctx, &connector.AuthorizeRequest{
		Amount: 700, Currency: "EUR", PaymentMethod: card(), CaptureMethod: connector.CaptureMethodManual,
	})
	wantStatus(t, "authorize", authorized, err, connector.ResultStatusAuthorized)
	id := authorized.ConnectorTransactionID

	voided, err := stripe.Void(ctx, &connector.VoidRequest{ConnectorTransactionID: id})
	wantStatus(t, "void", voided, err, connector.ResultStatusVoided)

	got, err := stripe.Get(ctx, &connector.GetRequest{ConnectorTransactionID: id})
	wantStatus(t, "get", got, err, connector.ResultStatusVoided)

	// automatic capture, on the same bound connector.
	paid, err := stripe.Authorize(ctx, &connector.AuthorizeRequest{Amount: 900, Currency: "EUR", PaymentMethod: card()})
	wantStatus(t, "authorize (automatic)", paid, err, connector.ResultStatusCaptured)
}

func TestAFailedPaymentIsAResultNotAnError(t *testing.T) {
	env := live(t)
	declined, err := env.stripe(t).Authorize(ctxFor(t), &connector.AuthorizeRequest{
		Amount:        1000,
		Currency:      "USD",
		PaymentMethod: connector.PaymentMethod{Type: connector.PaymentMethodTypeToken, Token: "pm_card_chargeDeclined"},
	})
	wantStatus(t, "authorize a declined card", declined, err, connector.ResultStatusFailed)
	if declined.Error == nil || declined.Error.Code == "" || declined.Error.Message == "" {
		t.Fatalf("a failed result without its error: %+v", declined)
	}
}

func TestInvalidInputHasItsPointer(t *testing.T) {
	env := live(t)
	var meta connector.ResponseMeta
	_, err := env.stripe(t).Authorize(ctxFor(t), &connector.AuthorizeRequest{
		Amount: -1, Currency: "USD", PaymentMethod: card(),
	}, connector.WithRequestID("go-invalid-input-1"), connector.CaptureMeta(&meta))
	problem := wantProblem(t, err, connector.ErrInvalidInput, 422)
	if problem.Pointer != "/amount" {
		t.Fatalf("pointer %q, want /amount", problem.Pointer)
	}
	if problem.RequestID != "go-invalid-input-1" || meta.RequestID != "go-invalid-input-1" || meta.StatusCode != 422 {
		t.Fatalf("request id not echoed: problem %q, meta %+v", problem.RequestID, meta)
	}
	if errors.Is(err, connector.ErrUnsupported) {
		t.Fatal("an invalid-input problem is also unsupported")
	}
	if !strings.Contains(err.Error(), "invalid-input") || !strings.Contains(err.Error(), "/amount") {
		t.Fatalf("error text %q names neither the type nor the pointer", err)
	}
}

func TestAWrongAPIKeyIsUnauthenticated(t *testing.T) {
	env := live(t)
	wrong := "svc_wrong_" + env.apiKey
	stripe := newClient(t, env.url, wrong).Connector("stripe",
		connector.WithCredentials(map[string]string{"api_key": env.stripeKey}))
	_, err := stripe.Authorize(ctxFor(t), &connector.AuthorizeRequest{Amount: 100, Currency: "USD", PaymentMethod: card()})
	wantProblem(t, err, connector.ErrUnauthenticated, 401)
	for _, secret := range []string{wrong, env.stripeKey} {
		if strings.Contains(err.Error(), secret) || strings.Contains(fmt.Sprintf("%+v %#v", err, err), secret) {
			t.Fatal("a credential is in the error")
		}
	}

	_, err = newClient(t, env.url, wrong).ListConnectors(ctxFor(t))
	wantProblem(t, err, connector.ErrUnauthenticated, 401)
}

func TestALimitedKeyMayUseOnlyItsProfile(t *testing.T) {
	env := live(t)
	limited := newClient(t, env.url, env.limitedKey)
	withCredentials := limited.Connector("stripe",
		connector.WithCredentials(map[string]string{"api_key": env.stripeKey}),
		connector.WithProcessorBaseURL(env.stripeURL))
	_, err := withCredentials.Authorize(ctxFor(t), &connector.AuthorizeRequest{Amount: 100, Currency: "USD", PaymentMethod: card()})
	wantProblem(t, err, connector.ErrProfileNotAllowed, 403)
	if strings.Contains(fmt.Sprintf("%v %+v %#v", err, withCredentials, withCredentials), env.stripeKey) {
		t.Fatal("the credentials are printed")
	}

	otherProfile := limited.Connector("stripe", connector.WithProfile("not-"+env.profile))
	_, err = otherProfile.Get(ctxFor(t), &connector.GetRequest{ConnectorTransactionID: "pi_1"})
	wantProblem(t, err, connector.ErrProfileNotAllowed, 403)

	// Its own profile works; a per-call option overrides the bound one.
	mine := limited.Connector("stripe", connector.WithProfile("not-"+env.profile), connector.WithProcessorBaseURL(env.stripeURL))
	paid, err := mine.Authorize(ctxFor(t), &connector.AuthorizeRequest{Amount: 100, Currency: "USD", PaymentMethod: card()},
		connector.WithProfile(env.profile))
	wantStatus(t, "authorize with the limited key's profile", paid, err, connector.ResultStatusCaptured)
}

func TestUnknownConnectorAndFlow(t *testing.T) {
	env := live(t)
	client := newClient(t, env.url, env.apiKey)
	_, err := client.Connector("no_such_processor", connector.WithProfile(env.profile)).
		Authorize(ctxFor(t), &connector.AuthorizeRequest{Amount: 100, Currency: "USD", PaymentMethod: card()})
	problem := wantProblem(t, err, connector.ErrUnknownConnector, 404)
	if !contains(problem.Allowed, "stripe") {
		t.Fatalf("allowed %v lacks stripe", problem.Allowed)
	}

	// The connector list says which flow a connector lacks; calling it is unknown-flow.
	rows, err := client.ListConnectors(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	id, flow := lackingFlow(t, rows)
	lacking := client.Connector(id, connector.WithProfile(env.profile))
	switch flow {
	case "find":
		_, err = lacking.Find(ctxFor(t), &connector.FindRequest{Reference: "r"})
	case "get":
		_, err = lacking.Get(ctxFor(t), &connector.GetRequest{ConnectorTransactionID: "x"})
	default:
		t.Fatalf("no test call for %s", flow)
	}
	problem = wantProblem(t, err, connector.ErrUnknownFlow, 404)
	if contains(problem.Allowed, flow) || !contains(problem.Allowed, "authorize") {
		t.Fatalf("allowed flows of %s: %v", id, problem.Allowed)
	}
}

func lackingFlow(t *testing.T, rows []map[string]any) (string, string) {
	t.Helper()
	seen := false
	for _, row := range rows {
		flows, _ := row["flows"].(map[string]any)
		id, _ := row["id"].(string)
		seen = seen || id == "stripe"
		for _, flow := range []string{"find", "get"} {
			if declared, ok := flows[flow].(bool); ok && !declared {
				return id, flow
			}
		}
	}
	t.Fatalf("the connector list (stripe listed: %v) has no connector lacking find or get: %v", seen, rows)
	return "", ""
}

func contains(values []string, want string) bool {
	for _, v := range values {
		if v == want {
			return true
		}
	}
	return false
}

func TestIdempotencyKeyIsEchoed(t *testing.T) {
	env := live(t)
	stripe := env.stripe(t)
	key := unique(t, "go-key-")
	var meta connector.ResponseMeta
	paid, err := stripe.Authorize(ctxFor(t), &connector.AuthorizeRequest{Amount: 200, Currency: "USD", PaymentMethod: card()},
		connector.WithIdempotencyKey(key), connector.CaptureMeta(&meta))
	wantStatus(t, "authorize", paid, err, connector.ResultStatusCaptured)
	if paid.IdempotencyKey != key || meta.IdempotencyKey != key || meta.StatusCode != 200 || meta.RequestID == "" {
		t.Fatalf("key %q: result has %q, answer %+v", key, paid.IdempotencyKey, meta)
	}

	// Without one, the service makes one up and says which.
	generated, err := stripe.Authorize(ctxFor(t), &connector.AuthorizeRequest{Amount: 200, Currency: "USD", PaymentMethod: card()},
		connector.CaptureMeta(&meta))
	wantStatus(t, "authorize", generated, err, connector.ResultStatusCaptured)
	if generated.IdempotencyKey == "" || generated.IdempotencyKey == key || meta.IdempotencyKey != generated.IdempotencyKey {
		t.Fatalf("generated key %q, answer %+v", generated.IdempotencyKey, meta)
	}

	// The header and the body must agree.
	_, err = stripe.Authorize(ctxFor(t), &connector.AuthorizeRequest{Amount: 200, Currency: "USD", PaymentMethod: card(), IdempotencyKey: key},
		connector.WithIdempotencyKey(key+"-other"))
	problem := wantProblem(t, err, connector.ErrBadRequest, 400)
	if problem.Pointer != "/idempotency_key" {
		t.Fatalf("pointer %q", problem.Pointer)
	}
}

func TestContextCancellationAndDeadline(t *testing.T) {
	env := live(t)
	stripe := env.stripe(t)
	request := &connector.AuthorizeRequest{Amount: 100, Currency: "USD", PaymentMethod: card()}

	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := stripe.Authorize(canceled, request)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("a canceled context gave %v", err)
	}
	var problem *connector.ProblemError
	if errors.As(err, &problem) {
		t.Fatal("a canceled call is a problem document")
	}

	expired, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	_, err = stripe.Authorize(expired, request)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("an expired deadline gave %v", err)
	}
}

// stripeDelivery is a webhook delivery as Stripe signs it: Stripe-Signature t=<ts>,v1=<hex
// HMAC-SHA256 of "<ts>.<body>"> with the endpoint's secret.
func stripeDelivery(secret string, at int64, body []byte) http.Header {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d.%s", at, body)
	header := http.Header{}
	header.Set("Content-Type", "application/json")
	header.Set("Stripe-Signature", fmt.Sprintf("t=%d,v1=%s", at, hex.EncodeToString(mac.Sum(nil))))
	return header
}

func TestWebhookDeliveryToEvents(t *testing.T) {
	env := live(t)
	now := time.Now().Unix()
	body := []byte(fmt.Sprintf(`{"id":"evt_go_1","object":"event","type":"payment_intent.succeeded","created":%d,`+
		`"data":{"object":{"id":"pi_go_1","object":"payment_intent","amount":1500,"currency":"usd",`+
		`"status":"succeeded","metadata":{"reference":"go-order-1"}}}}`, now))
	header := stripeDelivery(env.webhookSecret, now, body)
	header.Set("Authorization", "Bearer not-forwarded") // the client's own header wins

	found, err := env.stripe(t).HandleEvent(ctxFor(t), body, header)
	if err != nil {
		t.Fatal(err)
	}
	if len(found.Events) != 1 {
		t.Fatalf("events %+v", found.Events)
	}
	event := found.Events[0]
	if event.Type != connector.EventTypePaymentCaptured || !event.Verified || event.Connector != "stripe" ||
		event.ConnectorTransactionID != "pi_go_1" || event.EventID != "evt_go_1" ||
		event.ConnectorEventType != "payment_intent.succeeded" || event.Reference != "go-order-1" ||
		event.Amount == nil || *event.Amount != 1500 || event.OccurredAt == "" {
		t.Fatalf("event %+v", event)
	}
	if found.Acknowledge.Status != 200 || found.Acknowledge.ContentType == "" {
		t.Fatalf("acknowledge %+v", found.Acknowledge)
	}
}

func TestARejectedWebhookDeliverySaysWhy(t *testing.T) {
	env := live(t)
	stripe := env.stripe(t)
	now := time.Now().Unix()
	body := []byte(`{"id":"evt_go_2","object":"event","type":"payment_intent.succeeded","data":{"object":{"id":"pi_go_2","object":"payment_intent"}}}`)

	forged := stripeDelivery("whsec_not_the_secret", now, body)
	_, err := stripe.HandleEvent(ctxFor(t), body, forged)
	problem := wantProblem(t, err, connector.ErrWebhookRejected, 400)
	if problem.Reason != "bad_signature" {
		t.Fatalf("reason %q, want bad_signature", problem.Reason)
	}

	stale := stripeDelivery(env.webhookSecret, now-3600, body)
	_, err = stripe.HandleEvent(ctxFor(t), body, stale)
	problem = wantProblem(t, err, connector.ErrWebhookRejected, 400)
	if problem.Reason != "stale_timestamp" || !strings.Contains(err.Error(), "stale_timestamp") {
		t.Fatalf("reason %q (%v), want stale_timestamp", problem.Reason, err)
	}

	_, err = stripe.HandleEvent(ctxFor(t), body, http.Header{"Content-Type": {"application/json"}})
	problem = wantProblem(t, err, connector.ErrWebhookRejected, 400)
	if problem.Reason != "missing_signature" {
		t.Fatalf("reason %q, want missing_signature", problem.Reason)
	}
}

func TestListConnectors(t *testing.T) {
	env := live(t)
	rows, err := newClient(t, env.url, env.apiKey).ListConnectors(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		if row["id"] == "stripe" {
			flows, _ := row["flows"].(map[string]any)
			if flows["authorize"] != true || flows["refund"] != true {
				t.Fatalf("stripe's flows: %v", flows)
			}
			return
		}
	}
	t.Fatalf("no stripe among %d connectors", len(rows))
}

func TestSecretsAreNeverPrinted(t *testing.T) {
	env := live(t)
	client := newClient(t, env.url, env.apiKey)
	bound := client.Connector("stripe", connector.WithCredentials(map[string]string{"api_key": env.stripeKey}))
	card := connector.Card{Number: "4242424242424242", ExpMonth: 12, ExpYear: 2030, CVC: "123"}
	request := connector.AuthorizeRequest{Amount: 1, Currency: "USD", PaymentMethod: connector.PaymentMethod{Type: connector.PaymentMethodTypeCard, Card: &card}}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		printed := fmt.Sprintf(verb+" "+verb+" "+verb+" "+verb, client, bound, card, request.PaymentMethod)
		for _, secret := range []string{env.apiKey, env.stripeKey, card.Number, "123}"} {
			if strings.Contains(printed, secret) {
				t.Fatalf("%s prints a secret: %s", verb, printed)
			}
		}
	}
}
