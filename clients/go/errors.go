package connector

import (
	"fmt"
	"strings"
	"time"
)

// ProblemError is a problem document (RFC 9457) the service answered instead of a Result: the
// call was refused before anything was sent to the processor, so it is safe to send again once
// its cause is fixed. The embedded Problem holds the document: Type, Title, Status, Detail,
// RequestID, Pointer (the JSON pointer of a bad field), Reason (why a webhook delivery was
// rejected) and Allowed.
//
// errors.Is(err, ErrInvalidInput) and the other Err sentinels test its type.
type ProblemError struct {
	Problem
	// RetryAfter is the answer's Retry-After (overloaded), zero when it had none.
	RetryAfter time.Duration
}

// Error says the problem type, status, detail, pointer or reason, and request id. The service
// never puts credentials or card data in a problem document.
func (e *ProblemError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "connector: %s (%d): %s", e.Slug(), e.Status, e.Detail)
	if e.Pointer != "" {
		fmt.Fprintf(&b, " (at %s)", e.Pointer)
	}
	if e.Reason != "" {
		fmt.Fprintf(&b, " (reason %s)", e.Reason)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request %s]", e.RequestID)
	}
	return b.String()
}

// Slug is the problem type's slug ("invalid-input"): the last segment of its URI.
func (e *ProblemError) Slug() string {
	if kind := e.Kind(); kind != nil {
		return kind.Slug
	}
	return string(e.Type)[strings.LastIndex(string(e.Type), "/")+1:]
}

// Kind is the sentinel of the problem's type (ErrInvalidInput, ...), nil for a type this client
// does not know (a newer service's).
func (e *ProblemError) Kind() *ProblemKind {
	return e.Type.Kind()
}

// Is reports whether target is the sentinel of this problem's type, or a *ProblemError of the
// same type.
func (e *ProblemError) Is(target error) bool {
	switch t := target.(type) {
	case *ProblemKind:
		return t != nil && t.Type == e.Type
	case *ProblemError:
		return t != nil && t.Type == e.Type
	}
	return false
}

// ProblemKind is one problem type of the service as a sentinel error (ErrInvalidInput, ...): a
// row of the OpenAPI document's x-problem-types.
type ProblemKind struct {
	Type   ProblemType
	Slug   string
	Status int
	Title  string
}

// Error is the problem type's slug and title.
func (k *ProblemKind) Error() string {
	return "connector: " + k.Slug + ": " + k.Title
}

// Kind is the sentinel of this problem type, nil for a type this client does not know.
func (t ProblemType) Kind() *ProblemKind {
	for _, kind := range problemKinds {
		if kind.Type == t {
			return kind
		}
	}
	return nil
}

// ProblemKinds lists every problem type this client knows, in the service's order.
func ProblemKinds() []*ProblemKind {
	return append([]*ProblemKind(nil), problemKinds...)
}

// UnexpectedResponseError is an answer that is neither a Result nor a problem document (a
// proxy's error page, a redirect, a truncated body). Nothing of its body is kept.
type UnexpectedResponseError struct {
	StatusCode  int
	ContentType string
	RequestID   string
	Reason      string
}

func (e *UnexpectedResponseError) Error() string {
	msg := fmt.Sprintf("connector: unexpected answer (HTTP %d, %q): %s", e.StatusCode, e.ContentType, e.Reason)
	if e.RequestID != "" {
		msg += " [request " + e.RequestID + "]"
	}
	return msg
}

// masked hides card data in printed values (the generated String methods).
func masked(value string) string {
	if value == "" {
		return ""
	}
	return "[redacted]"
}
