package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/auth"
)

const (
	specPath   = "../../api/openapi.yaml"
	specPrefix = "/api/v1" // the document's server URL
)

// spec validates responses against api/openapi.yaml.
type spec struct {
	doc    *openapi3.T
	router routers.Router
}

func loadSpec(t testing.TB) *spec {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile(specPath)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()), "api/openapi.yaml is not a valid OpenAPI document")
	require.True(t, doc.IsOpenAPI31OrLater())
	router, err := gorillamux.NewRouter(doc)
	require.NoError(t, err)
	return &spec{doc: doc, router: router}
}

// check fails t unless the response in rec is one the document allows for
// req: a documented status, its headers, and a body matching its schema.
// Requests the document has no operation for (unknown routes, wrong
// methods) must answer 401, 404 or 405 with the Error schema.
func (s *spec) check(t testing.TB, req *http.Request, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code != http.StatusNoContent && rec.Code != http.StatusNotModified {
		assert.Equal(t, echo.MIMEApplicationJSON, rec.Header().Get(echo.HeaderContentType))
	}
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		assert.Contains(t, []int{http.StatusUnauthorized, http.StatusNotFound, http.StatusMethodNotAllowed}, rec.Code,
			"%s %s is not in api/openapi.yaml", req.Method, req.URL.Path)
		var body any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
		schema := s.doc.Components.Schemas["Error"].Value
		assert.NoError(t, schema.VisitJSON(body, openapi3.EnableJSONSchema2020()))
		return
	}
	reqInput := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	if rec.Code < http.StatusBadRequest {
		// The server accepted the request: the document must allow it
		// too (a query value, a body field), or clients cannot know it.
		assert.NoError(t, s.validateRequest(reqInput), "%s %s was accepted (%d) but api/openapi.yaml does not allow it",
			req.Method, req.URL, rec.Code)
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: reqInput,
		Status:                 rec.Code,
		Header:                 rec.Header(),
		Body:                   io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
		},
	}
	err = openapi3filter.ValidateResponse(context.Background(), input)
	assert.NoError(t, err, "%s %s answered %d %s", req.Method, req.URL.Path, rec.Code, rec.Body.String())
	coverage.add(route.Operation.OperationID, rec.Code)
}

// validateRequest validates a request already served: its body, read by
// the handler, comes again from GetBody (httptest.NewRequest sets it).
func (s *spec) validateRequest(in *openapi3filter.RequestValidationInput) error {
	if in.Request.GetBody != nil {
		body, err := in.Request.GetBody()
		if err != nil {
			return err
		}
		in.Request.Body = body
	}
	return openapi3filter.ValidateRequest(context.Background(), in)
}

// coverage records which documented responses the tests produced, so that
// a status the document promises but nothing produces is noticed too.
var coverage = &responseCoverage{seen: map[string]bool{}}

type responseCoverage struct {
	mu   sync.Mutex
	seen map[string]bool // "operationId status"
}

func (c *responseCoverage) add(op string, status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen[op+" "+strconv.Itoa(status)] = true
}

// missing lists the documented responses no test produced.
func (c *responseCoverage) missing(doc *openapi3.T) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for status := range op.Responses.Map() {
				if !c.seen[op.OperationID+" "+status] {
					out = append(out, op.OperationID+" "+status)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestMain checks, after a full run, that every response the document
// lists was produced and validated by some test.
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if code == 0 && flag.Lookup("test.run").Value.String() == "" && !testing.Short() {
		doc, err := openapi3.NewLoader().LoadFromFile(specPath)
		if err != nil {
			fmt.Fprintln(os.Stderr, "load api/openapi.yaml:", err)
			os.Exit(1)
		}
		if missing := coverage.missing(doc); len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "FAIL: responses in api/openapi.yaml that no test produced: %s\n",
				strings.Join(missing, ", "))
			code = 1
		}
	}
	os.Exit(code)
}

// TestRoutesMatchSpec fails when a route is registered in echo but not
// documented, or documented but not registered.
func TestRoutesMatchSpec(t *testing.T) {
	s := loadSpec(t)
	verifier, err := auth.NewVerifier(auth.Config{Secret: []byte("x")})
	require.NoError(t, err)
	e := echo.New()
	Register(e.Group(specPrefix), Config{}, nil, verifier, zap.NewNop())
	RegisterAdmin(e.Group(specPrefix+"/admin"), "admin-token", nil, nil, zap.NewNop())
	RegisterTracking(e, Config{}, nil, zap.NewNop())

	registered := map[string]bool{}
	for _, r := range e.Routes() {
		if r.Method == echo.RouteNotFound {
			continue // the group's catch-all that renders unknown routes as JSON
		}
		require.True(t, strings.HasPrefix(r.Path, specPrefix), r.Path)
		registered[r.Method+" "+echoToOpenAPI(strings.TrimPrefix(r.Path, specPrefix))] = true
	}
	documented := map[string]bool{}
	for path, item := range s.doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	for r := range registered {
		assert.True(t, documented[r], "route %s is served but not in api/openapi.yaml", r)
	}
	for d := range documented {
		assert.True(t, registered[d], "operation %s is in api/openapi.yaml but not served", d)
	}
	assert.NotEmpty(t, registered)
}

// echoToOpenAPI turns /orders/:id into /orders/{id}.
func echoToOpenAPI(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") {
			parts[i] = "{" + p[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}
