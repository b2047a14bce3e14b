package connector_test

// The client's own behaviour against stand-in servers (httptest): what the live service cannot
// be made to do on demand — hang mid-call, redirect, answer something that is not JSON.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"connector-service.dev/connector"
)

func TestCancelWhileTheServiceHoldsTheCall(t *testing.T) {
	arrived := make(chan struct{})
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // read it all: the server then watches the connection
		close(arrived)
		<-r.Context().Done() // held until the client goes away
	}))
	defer server.Close()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := newClient(t, server.URL, "svc_test_key").Connector("stripe").
			Get(ctx, &connector.GetRequest{ConnectorTransactionID: "pi_1"})
		done <- err
	}()
	<-arrived
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled mid-call: %v", err)
	}
}

func TestARedirectIsNotFollowed(t *testing.T) {
	var reached atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
	}))
	defer elsewhere.Close()
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer server.Close()

	followAll := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
	client, err := connector.New(server.URL, "svc_test_key", connector.WithHTTPClient(followAll))
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.Connector("stripe", connector.WithCredentials(map[string]string{"api_key": "sk_test_secret"})).
		Get(context.Background(), &connector.GetRequest{ConnectorTransactionID: "pi_1"})
	var unexpected *connector.UnexpectedResponseError
	if !errors.As(err, &unexpected) || unexpected.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("a redirect gave %v", err)
	}
	if reached.Load() != 0 {
		t.Fatal("the redirect was followed: the credentials went elsewhere")
	}
	if strings.Contains(err.Error(), "sk_test_secret") || strings.Contains(err.Error(), "svc_test_key") {
		t.Fatal("a credential is in the error")
	}
}

func TestWhatTheClientSends(t *testing.T) {
	var seen *http.Request
	var body map[string]any
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Clone(context.Background())
		_ = json.NewDecoder(r.Body).Decode(&body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Idempotency-Key", "k-1")
		_, _ = w.Write([]byte(`{"flow":"capture","connector":"stripe","status":"captured","amount":0,"future_field":1}`))
	}))
	defer server.Close()

	client, err := connector.New(server.URL+"/prefix/", "svc_test_key", connector.WithUserAgent("shop/2"))
	if err != nil {
		t.Fatal(err)
	}
	bound := client.Connector("stripe", connector.WithProfile("p"), connector.WithEnvironment("production"))
	result, err := bound.Capture(context.Background(), &connector.CaptureRequest{ConnectorTransactionID: "pi_1", Amount: connector.Ptr[connector.Amount](0), Currency: "USD"},
		connector.WithIdempotencyKey("k-1"), connector.WithRequestID("r-1"), connector.WithProcessorBaseURL("http://127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	if result.Status != connector.ResultStatusCaptured || result.Amount == nil || *result.Amount != 0 {
		t.Fatalf("result %+v", result)
	}
	want := map[string]string{
		"Authorization":           "Bearer svc_test_key",
		"Content-Type":            "application/json",
		"User-Agent":              "shop/2",
		"X-Connector-Profile":     "p",
		"X-Connector-Environment": "production",
		"X-Connector-Base-Url":    "http://127.0.0.1:1",
		"Idempotency-Key":         "k-1",
		"X-Request-Id":            "r-1",
		"X-Connector-Credentials": "",
	}
	for name, value := range want {
		if got := seen.Header.Get(name); got != value {
			t.Errorf("%s: %q, want %q", name, got, value)
		}
	}
	if seen.Method != http.MethodPost || seen.URL.Path != "/prefix/v1/stripe/capture" {
		t.Fatalf("%s %s", seen.Method, seen.URL.Path)
	}
	// An optional amount of 0 is sent (a pointer); absent optional fields are not.
	if body["amount"] != float64(0) || body["connector_transaction_id"] != "pi_1" || len(body) != 3 {
		t.Fatalf("body %v", body)
	}
}

func TestAnswersThatAreNotResults(t *testing.T) {
	answers := map[string]func(w http.ResponseWriter){
		"an HTML error page": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html>bad gateway sk_test_echo</html>"))
		},
		"broken JSON": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"flow":`))
		},
		"a broken problem": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`not json`))
		},
	}
	for name, answer := range answers {
		answer := answer
		t.Run(name, func(t *testing.T) {
			server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Request-Id", "r-2")
				answer(w)
			}))
			defer server.Close()
			_, err := newClient(t, server.URL, "svc_test_key").Connector("stripe").
				Get(context.Background(), &connector.GetRequest{ConnectorTransactionID: "pi_1"})
			var unexpected *connector.UnexpectedResponseError
			if !errors.As(err, &unexpected) || unexpected.RequestID != "r-2" {
				t.Fatalf("%s gave %v", name, err)
			}
			if strings.Contains(err.Error(), "sk_test_echo") {
				t.Fatal("the answer's body is in the error")
			}
		})
	}
}

func TestAProblemOfANewerServiceIsStillAProblemError(t *testing.T) {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"type":"https://connector-service.dev/problems/brand-new","title":"New","status":503,"detail":"d"}`))
	}))
	defer server.Close()
	_, err := newClient(t, server.URL, "svc_test_key").ListConnectors(context.Background())
	var problem *connector.ProblemError
	if !errors.As(err, &problem) || problem.Kind() != nil || problem.Slug() != "brand-new" || problem.RetryAfter.Seconds() != 7 {
		t.Fatalf("got %v (%+v)", err, problem)
	}
	for _, kind := range connector.ProblemKinds() {
		if errors.Is(err, kind) {
			t.Fatalf("an unknown problem type is %s", kind.Slug)
		}
	}
}

func TestNewRefusesABadBaseURLOrNoKey(t *testing.T) {
	for _, url := range []string{"", "127.0.0.1:8080", "ftp://host", "http://user:pw@host", "http:///path"} {
		if _, err := connector.New(url, "k"); err == nil {
			t.Errorf("New(%q) took it", url)
		} else if strings.Contains(err.Error(), "pw@") {
			t.Errorf("New(%q) prints the password: %v", url, err)
		}
	}
	if _, err := connector.New("http://127.0.0.1:8080", ""); err == nil {
		t.Error("New took an empty API key")
	}
}

func TestProblemKindsMatchTheirTypes(t *testing.T) {
	kinds := connector.ProblemKinds()
	if len(kinds) == 0 {
		t.Fatal("no problem kinds")
	}
	slugs := map[string]bool{}
	for _, kind := range kinds {
		if slugs[kind.Slug] || kind.Type.Kind() != kind || !strings.HasSuffix(string(kind.Type), "/"+kind.Slug) {
			t.Errorf("kind %+v", kind)
		}
		slugs[kind.Slug] = true
		if kind.Status < 400 || kind.Status > 599 || kind.Title == "" {
			t.Errorf("kind %+v", kind)
		}
	}
	if connector.ErrInvalidInput.Status != 422 || connector.ErrUnauthenticated.Status != 401 {
		t.Error("statuses differ from the service's table")
	}
}

func TestEveryFlowPostsItsRequestToItsPath(t *testing.T) {
	var paths []string
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body) == 0 {
			t.Errorf("%s: body %v (%v)", r.URL.Path, body, err)
		}
		paths = append(paths, r.Method+" "+r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"flow":"x","connector":"acme","status":"pending"}`))
	}))
	defer server.Close()
	acme := newClient(t, server.URL, "svc_test_key").Connector("acme")
	ctx := context.Background()
	method := connector.PaymentMethod{Type: connector.PaymentMethodTypeToken, Token: "tok"}
	calls := map[string]func() (*connector.Result, error){
		"authorize": func() (*connector.Result, error) {
			return acme.Authorize(ctx, &connector.AuthorizeRequest{Amount: 1, Currency: "USD", PaymentMethod: method})
		},
		"complete_authorize": func() (*connector.Result, error) {
			return acme.CompleteAuthorize(ctx, &connector.CompleteAuthorizeRequest{RedirectResponse: connector.RedirectResponse{Params: map[string]string{"a": "b"}}})
		},
		"capture": func() (*connector.Result, error) {
			return acme.Capture(ctx, &connector.CaptureRequest{ConnectorTransactionID: "t"})
		},
		"void": func() (*connector.Result, error) {
			return acme.Void(ctx, &connector.VoidRequest{ConnectorTransactionID: "t"})
		},
		"refund": func() (*connector.Result, error) {
			return acme.Refund(ctx, &connector.RefundRequest{ConnectorTransactionID: "t"})
		},
		"get": func() (*connector.Result, error) {
			return acme.Get(ctx, &connector.GetRequest{ConnectorTransactionID: "t"})
		},
		"get_refund": func() (*connector.Result, error) {
			return acme.GetRefund(ctx, &connector.GetRefundRequest{ConnectorRefundID: "r"})
		},
		"setup_recurring": func() (*connector.Result, error) {
			return acme.SetupRecurring(ctx, &connector.SetupRecurringRequest{Currency: "USD", PaymentMethod: method})
		},
		"charge_recurring": func() (*connector.Result, error) {
			return acme.ChargeRecurring(ctx, &connector.ChargeRecurringRequest{Amount: 1, Currency: "USD", MandateID: "m"})
		},
		"find": func() (*connector.Result, error) { return acme.Find(ctx, &connector.FindRequest{Reference: "r"}) },
	}
	for flow, call := range calls {
		paths = paths[:0]
		result, err := call()
		if err != nil || result.Status != connector.ResultStatusPending {
			t.Fatalf("%s: %v %+v", flow, err, result)
		}
		if len(paths) != 1 || paths[0] != "POST /v1/acme/"+flow {
			t.Fatalf("%s went to %v", flow, paths)
		}
	}
	paths = paths[:0]
	if _, err := acme.Authorize(ctx, nil); err == nil || len(paths) != 0 {
		t.Fatalf("a nil request: %v, sent %v", err, paths)
	}
}

func TestRawResponseIsAskedForOnlyWithTheOption(t *testing.T) {
	var asked []string
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.Header.Get("X-Connector-Raw-Response"))
		w.Header().Set("Content-Type", "application/json")
		// The service's Result with a raw: answered whatever was asked, so the client's own
		// filtering is what the test sees.
		_, _ = io.WriteString(w, `{"flow":"get","connector":"stripe","status":"captured",`+
			`"raw":{"status_code":200,"headers":{"content-type":"application/json"},`+
			`"body":"{\"id\":\"pi_1\"}","truncated":false}}`)
	}))
	defer server.Close()
	stripe := newClient(t, server.URL, "svc_test_key").Connector("stripe")
	request := &connector.GetRequest{ConnectorTransactionID: "pi_1"}

	plain, err := stripe.Get(context.Background(), request)
	if err != nil {
		t.Fatal(err)
	}
	if plain.Raw != nil {
		t.Fatal("a raw not asked for was kept")
	}
	withRaw, err := stripe.Get(context.Background(), request, connector.WithRawResponse(true))
	if err != nil {
		t.Fatal(err)
	}
	if withRaw.Raw == nil || withRaw.Raw.StatusCode != 200 || withRaw.Raw.Body != `{"id":"pi_1"}` {
		t.Fatalf("the raw asked for: %+v", withRaw.Raw)
	}
	if len(asked) != 2 || asked[0] != "" || asked[1] != "true" {
		t.Fatalf("X-Connector-Raw-Response sent: %q", asked)
	}
}
