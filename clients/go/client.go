// Package connector is a Go client of the Connector Service HTTP API: one unified payment API
// over many processors.
//
// A Client holds the service's address and an API key; Client.Connector binds one processor and
// one account at it (a named profile of the service, or the caller's own credentials), and its
// methods are the flows:
//
//	client, err := connector.New("http://127.0.0.1:8080", os.Getenv("CONNECTOR_SERVICE_API_KEY"))
//	if err != nil { ... }
//	stripe := client.Connector("stripe", connector.WithProfile("stripe-live"))
//	result, err := stripe.Authorize(ctx, &connector.AuthorizeRequest{
//		Amount:        1000,
//		Currency:      "USD",
//		PaymentMethod: connector.PaymentMethod{Type: connector.PaymentMethodTypeToken, Token: "pm_card_visa"},
//	})
//
// Every call that reached the processor answers a *Result, whatever its Status (failed and
// unresolved included). An error is either a *ProblemError (the service answered a problem
// document: nothing was sent to the processor) or the transport's (the context's, a refused
// connection): errors.Is(err, context.DeadlineExceeded) and errors.Is(err, ErrInvalidInput) work.
//
// types.go and flows.go are generated from the service's OpenAPI document by tools/gen_go.py.
// Neither the API key nor processor credentials ever appear in an error or in a printed Client
// or Connector.
package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MaxResponseBytes bounds how much of an answer the client reads.
const MaxResponseBytes = 16 << 20

// Client calls one Connector Service. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	apiKey    string
	http      *http.Client
	userAgent string
}

// An Option configures a Client.
type Option func(*Client)

// WithHTTPClient sends through h (its Transport, Timeout and Jar). The client never follows a
// redirect, whatever h's CheckRedirect says: credentials must not travel to another address.
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) {
		if h != nil {
			copied := *h
			c.http = &copied
		}
	}
}

// WithUserAgent sets the User-Agent header of every call.
func WithUserAgent(userAgent string) Option {
	return func(c *Client) { c.userAgent = userAgent }
}

// New returns a Client of the service at baseURL (http or https, e.g. "http://127.0.0.1:8080")
// calling it with apiKey as its bearer key.
func New(baseURL, apiKey string, opts ...Option) (*Client, error) {
	base, err := url.Parse(baseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, errors.New("connector: the base URL must be an absolute http(s) URL (scheme and host)")
	}
	if base.User != nil {
		return nil, errors.New("connector: the base URL must not hold a user or password")
	}
	if apiKey == "" {
		return nil, errors.New("connector: an API key is required")
	}
	base.Path = strings.TrimRight(base.Path, "/")
	base.RawQuery, base.Fragment = "", ""
	c := &Client{base: base, apiKey: apiKey, http: &http.Client{}, userAgent: "connector-go/1"}
	for _, opt := range opts {
		opt(c)
	}
	c.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c, nil
}

// String names the service; the API key is never printed.
func (c *Client) String() string { return "connector.Client(" + c.base.String() + ")" }

// GoString is String: %#v never prints the API key either.
func (c *Client) GoString() string { return c.String() }

// Connector binds the connector id (e.g. "stripe") and the options of all its calls, typically
// WithProfile or WithCredentials. Options given to a call are applied after these.
func (c *Client) Connector(id string, opts ...CallOption) *Connector {
	return &Connector{client: c, id: id, opts: append([]CallOption(nil), opts...)}
}

// ListConnectors answers the bundled connectors: their flows, capabilities and recovery (the
// feature matrix as data, one object per connector).
func (c *Client) ListConnectors(ctx context.Context, opts ...CallOption) ([]map[string]any, error) {
	var rows []map[string]any
	s := settings(nil, opts)
	if err := c.do(ctx, http.MethodGet, "/v1/connectors", nil, nil, s, &rows); err != nil {
		return nil, err
	}
	return rows, nil
}

// Connector is one processor of the service with the options of every call to it (the account:
// a profile or credentials). Make one with Client.Connector; it is safe for concurrent use.
type Connector struct {
	client *Client
	id     string
	opts   []CallOption
}

// ID is the connector's id.
func (c *Connector) ID() string { return c.id }

// String names the connector; credentials are never printed.
func (c *Connector) String() string { return "connector.Connector(" + c.id + ")" }

// GoString is String: %#v never prints credentials either.
func (c *Connector) GoString() string { return c.String() }

// HandleEvent forwards a processor's webhook delivery as it came (its raw body and headers) and
// answers its verified events and what to answer the processor (WebhookResult.Acknowledge). The
// webhook secret is the profile's: WithProfile is required. A delivery that cannot be verified
// is a *ProblemError of ErrWebhookRejected whose Reason says why.
func (c *Connector) HandleEvent(ctx context.Context, body []byte, header http.Header, opts ...CallOption) (*WebhookResult, error) {
	forwarded := http.Header{}
	for name, values := range header {
		if !ownHeader(name) {
			forwarded[http.CanonicalHeaderKey(name)] = append([]string(nil), values...)
		}
	}
	var out WebhookResult
	s := settings(c.opts, opts)
	if err := c.client.do(ctx, http.MethodPost, c.path("events"), body, forwarded, s, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Write answers the processor's delivery as the service said (status, content type, body).
func (a WebhookResultAcknowledge) Write(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", a.ContentType)
	w.WriteHeader(int(a.Status))
	_, err := io.WriteString(w, a.Body)
	return err
}

func (c *Connector) path(flow string) string {
	return "/v1/" + url.PathEscape(c.id) + "/" + flow
}

// callFlow posts a unified request to one flow and reads its answer (the generated methods).
func callFlow[Out any, In any](ctx context.Context, c *Connector, flow string, req *In, opts []CallOption) (*Out, error) {
	if req == nil {
		return nil, fmt.Errorf("connector: %s needs a request, not nil", flow)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("connector: %s: the request cannot be encoded: %w", flow, err)
	}
	header := http.Header{"Content-Type": {"application/json"}}
	var out Out
	s := settings(c.opts, opts)
	if s.rawResponse {
		header.Set("X-Connector-Raw-Response", "true")
	}
	if err := c.client.do(ctx, http.MethodPost, c.path(flow), body, header, s, &out); err != nil {
		return nil, err
	}
	// A raw not asked for (a misconfigured or newer service) is left out.
	if result, ok := any(&out).(*Result); ok && !s.rawResponse {
		result.Raw = nil
	}
	return &out, nil
}

// ownHeader: headers the client sets itself, never forwarded from a webhook delivery.
func ownHeader(name string) bool {
	switch http.CanonicalHeaderKey(name) {
	case "Authorization", "X-Request-Id", "Idempotency-Key", "Host", "Content-Length",
		"Connection", "Transfer-Encoding", "Accept-Encoding", "Cookie":
		return true
	}
	return strings.HasPrefix(http.CanonicalHeaderKey(name), "X-Connector-")
}

// do sends one request and decodes its answer into out (a 2xx JSON answer), or returns the
// problem document as a *ProblemError, or an *UnexpectedResponseError.
func (c *Client) do(ctx context.Context, method, path string, body []byte, header http.Header, s *callSettings, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("connector: %w", err)
	}
	for name, values := range header {
		req.Header[name] = values
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	req.Header.Set("Accept", "application/json, application/problem+json")
	req.Header.Set("User-Agent", c.userAgent)
	if err := s.apply(req.Header); err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("connector: %s %s: %w", method, path, unwrapURLError(err))
	}
	defer resp.Body.Close()
	s.record(resp)
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("connector: %s %s: reading the answer: %w", method, path, unwrapURLError(err))
	}
	requestID := resp.Header.Get("X-Request-Id")
	if len(data) > MaxResponseBytes {
		return &UnexpectedResponseError{StatusCode: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), RequestID: requestID, Reason: "the answer is too large"}
	}
	media, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if media == "application/problem+json" {
		return problemError(resp, data, requestID)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 || media != "application/json" {
		return &UnexpectedResponseError{StatusCode: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), RequestID: requestID, Reason: "not a JSON answer"}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &UnexpectedResponseError{StatusCode: resp.StatusCode, ContentType: media, RequestID: requestID, Reason: "the JSON does not decode: " + err.Error()}
	}
	return nil
}

func problemError(resp *http.Response, data []byte, requestID string) error {
	var problem Problem
	if err := json.Unmarshal(data, &problem); err != nil || problem.Type == "" {
		return &UnexpectedResponseError{StatusCode: resp.StatusCode, ContentType: "application/problem+json", RequestID: requestID, Reason: "the problem document does not decode"}
	}
	if problem.RequestID == "" {
		problem.RequestID = requestID
	}
	if problem.Status == 0 {
		problem.Status = int64(resp.StatusCode)
	}
	e := &ProblemError{Problem: problem}
	if seconds, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && seconds >= 0 {
		e.RetryAfter = time.Duration(seconds) * time.Second
	}
	return e
}

// unwrapURLError keeps a transport error's cause (the context's error, a refused connection)
// without the *url.Error's repetition of the method and URL.
func unwrapURLError(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}

// Ptr is a pointer to v, for the optional numbers, booleans and objects of a request:
// Amount: connector.Ptr[connector.Amount](500).
func Ptr[T any](v T) *T { return &v }
