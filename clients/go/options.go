package connector

import (
	"encoding/json"
	"errors"
	"net/http"
)

// A CallOption sets a header of a call: given to Client.Connector it applies to every call of
// that Connector, given to a call to that call only (after the Connector's).
type CallOption func(*callSettings)

type callSettings struct {
	profile        string
	credentials    map[string]string
	environment    string
	baseURL        string
	idempotencyKey string
	requestID      string
	rawResponse    bool
	meta           *ResponseMeta
}

// WithProfile calls with a named processor account of the service's config
// (X-Connector-Profile). It replaces WithCredentials given before it.
func WithProfile(name string) CallOption {
	return func(s *callSettings) { s.profile, s.credentials = name, nil }
}

// WithCredentials calls with the caller's own processor credentials (X-Connector-Credentials):
// the connector's credential names to their values. The map is copied. The service never logs,
// stores or echoes them, and this client never prints them. It replaces WithProfile given
// before it.
func WithCredentials(credentials map[string]string) CallOption {
	copied := make(map[string]string, len(credentials))
	for name, value := range credentials {
		copied[name] = value
	}
	return func(s *callSettings) { s.credentials, s.profile = copied, "" }
}

// WithEnvironment names the spec's environment for WithCredentials (X-Connector-Environment;
// the service's default is sandbox). A profile names its own.
func WithEnvironment(name string) CallOption {
	return func(s *callSettings) { s.environment = name }
}

// WithProcessorBaseURL sends to this processor base URL instead of the spec's
// (X-Connector-Base-Url): for local fake processors, honoured only by a service started in
// test mode (connector serve --allow-base-url).
func WithProcessorBaseURL(baseURL string) CallOption {
	return func(s *callSettings) { s.baseURL = baseURL }
}

// WithIdempotencyKey sets the call's idempotency key (Idempotency-Key): send the same key to
// retry a call safely. Without one the service generates a key and returns it in the Result.
// Read flows (get, get_refund, find) take none.
func WithIdempotencyKey(key string) CallOption {
	return func(s *callSettings) { s.idempotencyKey = key }
}

// WithRequestID sets the request id the service logs the call under (X-Request-Id: letters,
// digits and ._:- up to 128); the service generates one otherwise.
func WithRequestID(id string) CallOption {
	return func(s *callSettings) { s.requestID = id }
}

// WithRawResponse asks for the processor's own answer in the Result's Raw
// (X-Connector-Raw-Response: true): its status, headers and body, scrubbed of secrets and card
// data by the service, the body bounded. Off by default; without it a Result never carries one.
func WithRawResponse(on bool) CallOption {
	return func(s *callSettings) { s.rawResponse = on }
}

// ResponseMeta is what the service's answer said besides its body.
type ResponseMeta struct {
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// RequestID is the request id the service logged the call under (X-Request-Id).
	RequestID string
	// IdempotencyKey is the idempotency key of the call (Idempotency-Key), for flows that take
	// one.
	IdempotencyKey string
}

// CaptureMeta fills meta from the answer's status and headers when the call is answered, with
// a Result or with a problem document alike.
func CaptureMeta(meta *ResponseMeta) CallOption {
	return func(s *callSettings) { s.meta = meta }
}

func settings(bound, call []CallOption) *callSettings {
	s := &callSettings{}
	for _, opt := range bound {
		opt(s)
	}
	for _, opt := range call {
		opt(s)
	}
	return s
}

// apply writes the settings' headers. The credentials' JSON goes into the header only: an
// encoding error never quotes it.
func (s *callSettings) apply(header http.Header) error {
	if s.profile != "" {
		header.Set("X-Connector-Profile", s.profile)
	}
	if s.credentials != nil {
		encoded, err := json.Marshal(s.credentials)
		if err != nil {
			return errors.New("connector: the credentials cannot be encoded as JSON")
		}
		header.Set("X-Connector-Credentials", string(encoded))
	}
	if s.environment != "" {
		header.Set("X-Connector-Environment", s.environment)
	}
	if s.baseURL != "" {
		header.Set("X-Connector-Base-Url", s.baseURL)
	}
	if s.idempotencyKey != "" {
		header.Set("Idempotency-Key", s.idempotencyKey)
	}
	if s.requestID != "" {
		header.Set("X-Request-Id", s.requestID)
	}
	return nil
}

func (s *callSettings) record(resp *http.Response) {
	if s.meta != nil {
		*s.meta = ResponseMeta{
			StatusCode:     resp.StatusCode,
			RequestID:      resp.Header.Get("X-Request-Id"),
			IdempotencyKey: resp.Header.Get("Idempotency-Key"),
		}
	}
}
