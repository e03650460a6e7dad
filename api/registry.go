package api

import (
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// op is one operation of the API: its route, the handler, and what the
// OpenAPI document says about it. Every route is registered through
// [server.register], so the document lists exactly what the mux serves.
type op struct {
	Method  string // GET, PUT, POST, DELETE
	Path    string // Go ServeMux path with {wildcards}, e.g. /v1/people/{personId}
	Summary string
	Tag     string
	// Access says who may call it (rendered into the description).
	Access string
	Query  []param
	// Body is a value of the request body type (nil: no body).
	Body any
	// BodyType is the request body's media type ("": application/json).
	BodyType string
	// Resp is a value of the response body type (nil: no body).
	Resp any
	// Status is the success status; 0 means 200, or 204 when Resp is nil.
	Status int
	// Public operations need no bearer token.
	Public bool
	// Hidden operations are served but not documented (aliases).
	Hidden  bool
	Handler http.Handler
}

// param is a documented query parameter.
type param struct {
	Name, Type, Description string
}

// Common query parameters.
var (
	qOrgID = param{"orgId", "string", "Act on this organization (partner administrators); defaults to the token's own organization."}
	qStart = param{"start", "integer", "Offset of the first item (0-based)."}
	qMax   = param{"max", "integer", "Largest number of items on one page."}
)

// pattern is the ServeMux pattern of the operation.
func (o *op) pattern() string { return o.Method + " " + o.Path }

// success is the documented success status.
func (o *op) success() int {
	switch {
	case o.Status != 0:
		return o.Status
	case o.Resp == nil:
		return http.StatusNoContent
	}
	return http.StatusOK
}

// register adds the operation to the mux and to the document.
func (s *server) register(o op) {
	s.mux.Handle(o.pattern(), o.Handler)
	s.ops = append(s.ops, o)
}

// openAPI builds the OpenAPI 3.0 document of every registered operation.
func (s *server) openAPI() map[string]any {
	paths := map[string]map[string]any{}
	schemas := map[string]any{}
	for i := range s.ops {
		o := &s.ops[i]
		if o.Hidden {
			continue
		}
		item := paths[o.Path]
		if item == nil {
			item = map[string]any{}
			paths[o.Path] = item
		}
		var params []any
		for _, name := range pathParams(o.Path) {
			params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, q := range o.Query {
			params = append(params, map[string]any{"name": q.Name, "in": "query", "description": q.Description, "schema": map[string]any{"type": q.Type}})
		}
		desc := o.Summary
		if o.Access != "" {
			desc += "\n\nAccess: " + o.Access
		}
		resp := map[string]any{"description": http.StatusText(o.success())}
		if o.Resp != nil {
			resp["content"] = map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(o.Resp), schemas)}}
		}
		responses := map[string]any{
			strconv.Itoa(o.success()): resp,
			"default":                 map[string]any{"description": "Error", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}},
		}
		operation := map[string]any{
			"summary":     o.Summary,
			"description": desc,
			"operationId": operationID(o),
			"responses":   responses,
		}
		if o.Tag != "" {
			operation["tags"] = []string{o.Tag}
		}
		if len(params) > 0 {
			operation["parameters"] = params
		}
		if o.Body != nil {
			ct := "application/json"
			if o.BodyType != "" {
				ct = o.BodyType
			}
			operation["requestBody"] = map[string]any{"content": map[string]any{ct: map[string]any{"schema": schemaOf(reflect.TypeOf(o.Body), schemas)}}}
		}
		if o.Public {
			operation["security"] = []any{}
		}
		item[strings.ToLower(o.Method)] = operation
	}
	schemas["Error"] = schemaOf(reflect.TypeOf(errorBody{}), schemas)
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":       "callrec API",
			"version":     s.version,
			"description": "Call recording control plane and converged recordings, in the shapes of the Webex Calling APIs.",
		},
		"servers":    []any{map[string]any{"url": s.publicURL}},
		"security":   []any{map[string]any{"bearer": []any{}}},
		"paths":      paths,
		"components": map[string]any{"schemas": schemas, "securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}}},
	}
}

// serveOpenAPI is GET /v1/openapi.json.
func (s *server) serveOpenAPI(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, s.doc)
	return nil
}

// pathParams returns the wildcard names of a ServeMux path.
func pathParams(p string) []string {
	var names []string
	for _, seg := range strings.Split(p, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			names = append(names, strings.TrimSuffix(strings.Trim(seg, "{}"), "..."))
		}
	}
	return names
}

// operationID is a stable id made of the method and the path.
func operationID(o *op) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(o.Method))
	for _, seg := range strings.Split(strings.TrimPrefix(o.Path, "/v1/"), "/") {
		seg = strings.Trim(seg, "{}.")
		if seg == "" {
			continue
		}
		b.WriteString(strings.ToUpper(seg[:1]) + seg[1:])
	}
	return b.String()
}

var timeType = reflect.TypeOf(time.Time{})

// schemaOf returns the JSON schema of a Go type as encoding/json renders
// it; named struct types go into schemas and are referenced.
func schemaOf(t reflect.Type, schemas map[string]any) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t.Kind() == reflect.String:
		return map[string]any{"type": "string"}
	case t.Kind() == reflect.Bool:
		return map[string]any{"type": "boolean"}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return map[string]any{"type": "integer"}
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return map[string]any{"type": "number"}
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "format": "byte"}
		}
		return map[string]any{"type": "array", "items": schemaOf(t.Elem(), schemas)}
	case t.Kind() == reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem(), schemas)}
	case t.Kind() == reflect.Interface:
		return map[string]any{}
	case t.Kind() != reflect.Struct:
		return map[string]any{}
	}
	name := schemaName(t)
	if name != "" {
		if _, ok := schemas[name]; ok {
			return map[string]any{"$ref": "#/components/schemas/" + name}
		}
		schemas[name] = map[string]any{} // placeholder against recursion
	}
	props := map[string]any{}
	var required []string
	addFields(t, props, &required, schemas)
	sort.Strings(required)
	sch := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		sch["required"] = required
	}
	if name == "" {
		return sch
	}
	schemas[name] = sch
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

func addFields(t reflect.Type, props map[string]any, required *[]string, schemas map[string]any) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() && !(f.Anonymous && f.Type.Kind() == reflect.Struct) {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			addFields(f.Type, props, required, schemas)
			continue
		}
		if name == "" {
			name = f.Name
		}
		sch := schemaOf(f.Type, schemas)
		if d := f.Tag.Get("doc"); d != "" {
			sch = map[string]any{"allOf": []any{sch}, "description": d}
		}
		props[name] = sch
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") && f.Type.Kind() != reflect.Pointer {
			*required = append(*required, name)
		}
	}
}

// schemaName names a struct schema after its Go type (fooJSON ->
// FooJSON), so two types never share a schema; anonymous structs are
// inlined.
func schemaName(t reflect.Type) string {
	n := t.Name()
	if n == "" {
		return ""
	}
	return strings.ToUpper(n[:1]) + n[1:]
}
