package siprec

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"
)

// Limits that keep a hostile document from costing more than a real one.
const (
	maxXMLDepth    = 64
	maxXMLElements = 20000
)

// node is one element of a parsed XML document. Names are resolved to
// namespace URIs by encoding/xml; raw keeps the element's exact text.
type node struct {
	name     xml.Name
	attrs    []xml.Attr
	children []*node
	text     strings.Builder // character data directly inside the element
	start    int             // offset of '<' in the document
	end      int             // offset just after the element's end
	scope    map[string]string
	parent   *node
}

// attr returns the value of the first attribute whose local name is one of
// names (any namespace, case-insensitive), or "".
func (n *node) attr(names ...string) string {
	for _, want := range names {
		for _, a := range n.attrs {
			if a.Name.Space != "xmlns" && !(a.Name.Space == "" && a.Name.Local == "xmlns") && strings.EqualFold(a.Name.Local, want) {
				return strings.TrimSpace(a.Value)
			}
		}
	}
	return ""
}

// is reports whether the element's local name is one of names,
// case-insensitively.
func (n *node) is(names ...string) bool {
	for _, want := range names {
		if strings.EqualFold(n.name.Local, want) {
			return true
		}
	}
	return false
}

// value is the element's trimmed character data.
func (n *node) value() string { return strings.TrimSpace(n.text.String()) }

// child returns the first child whose local name is one of names.
func (n *node) child(names ...string) *node {
	for _, c := range n.children {
		if c.is(names...) {
			return c
		}
	}
	return nil
}

// childValue is the trimmed text of the first child named one of names, or "".
func (n *node) childValue(names ...string) string {
	if c := n.child(names...); c != nil {
		return c.value()
	}
	return ""
}

// find returns the first element in n's subtree (n included, depth first)
// named one of names.
func (n *node) find(names ...string) *node {
	if n.is(names...) {
		return n
	}
	for _, c := range n.children {
		if f := c.find(names...); f != nil {
			return f
		}
	}
	return nil
}

// identityCharset lets documents that declare a non-UTF-8 encoding parse:
// parseXML has already made the bytes valid UTF-8.
func identityCharset(_ string, r io.Reader) (io.Reader, error) { return r, nil }

// latin1ToUTF8 converts ISO 8859-1 bytes to UTF-8. It is used only when a
// document is not valid UTF-8, which in SIPREC traffic means Latin-1 names.
func latin1ToUTF8(b []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(b) + len(b)/8)
	for _, c := range b {
		buf.WriteRune(rune(c))
	}
	return buf.Bytes()
}

// parseXML builds the element tree of data. It returns the root element
// and the (possibly transcoded) bytes offsets refer to.
func parseXML(data []byte) (*node, []byte, error) {
	if !utf8.Valid(data) {
		data = latin1ToUTF8(data)
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.CharsetReader = identityCharset
	var root *node
	var stack []*node
	count := 0
	scope := map[string]string{"xml": "http://www.w3.org/XML/1998/namespace"}
	for {
		before := int(dec.InputOffset())
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %v", ErrMalformedXML, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			count++
			if count > maxXMLElements || len(stack) >= maxXMLDepth {
				return nil, nil, fmt.Errorf("%w: document too deep or too large", ErrMalformedXML)
			}
			if root != nil && len(stack) == 0 {
				return nil, nil, fmt.Errorf("%w: more than one root element", ErrMalformedXML)
			}
			n := &node{name: t.Name, attrs: t.Copy().Attr, start: before, scope: scope}
			if decls := nsDecls(t.Attr); len(decls) > 0 {
				n.scope = make(map[string]string, len(scope)+len(decls))
				for k, v := range scope {
					n.scope[k] = v
				}
				for k, v := range decls {
					n.scope[k] = v
				}
			}
			if len(stack) > 0 {
				n.parent = stack[len(stack)-1]
				n.parent.children = append(n.parent.children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
			scope = n.scope
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, nil, fmt.Errorf("%w: unexpected end element", ErrMalformedXML)
			}
			n := stack[len(stack)-1]
			n.end = int(dec.InputOffset())
			stack = stack[:len(stack)-1]
			if len(stack) > 0 {
				scope = stack[len(stack)-1].scope
			}
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, nil, fmt.Errorf("%w: text outside the root element", ErrMalformedXML)
			}
		}
	}
	if root == nil {
		return nil, nil, fmt.Errorf("%w: no root element", ErrMalformedXML)
	}
	if len(stack) > 0 {
		return nil, nil, fmt.Errorf("%w: element %s not closed", ErrMalformedXML, stack[len(stack)-1].name.Local)
	}
	return root, data, nil
}

// nsDecls returns the prefixed namespace declarations (xmlns:p="uri") of a
// start tag.
func nsDecls(attrs []xml.Attr) map[string]string {
	var m map[string]string
	for _, a := range attrs {
		if a.Name.Space == "xmlns" {
			if m == nil {
				m = make(map[string]string)
			}
			m[a.Name.Local] = a.Value
		}
	}
	return m
}

// rawXML returns n's text exactly as in data, made self-contained: when the
// element uses a namespace prefix declared on an ancestor, the declaration
// is added to its start tag so that the fragment stays well-formed when it
// is stored or re-emitted elsewhere. Nothing else is changed.
func rawXML(n *node, data []byte) string {
	if n.start < 0 || n.end > len(data) || n.start >= n.end {
		return ""
	}
	raw := string(data[n.start:n.end])
	missing := map[string]string{}
	collectUsedPrefixes(n, n, missing)
	if len(missing) == 0 {
		return raw
	}
	prefixes := make([]string, 0, len(missing))
	for p := range missing {
		prefixes = append(prefixes, p)
	}
	sort.Strings(prefixes)
	// Insert after the element name in the start tag.
	i := 1
	for i < len(raw) && !isXMLSpace(raw[i]) && raw[i] != '>' && raw[i] != '/' {
		i++
	}
	var sb strings.Builder
	sb.WriteString(raw[:i])
	for _, p := range prefixes {
		sb.WriteString(` xmlns:`)
		sb.WriteString(p)
		sb.WriteString(`="`)
		_ = xml.EscapeText(&sb, []byte(missing[p]))
		sb.WriteString(`"`)
	}
	sb.WriteString(raw[i:])
	return sb.String()
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// collectUsedPrefixes finds the prefixes of namespaces used in n's subtree
// (element and attribute names) that are declared outside top.
func collectUsedPrefixes(top, n *node, missing map[string]string) {
	check := func(space string) {
		if space == "" || space == "xmlns" {
			return
		}
		// Resolved URI: find the prefix bound to it in n's scope and see
		// whether top or a descendant declares it.
		for prefix, uri := range n.scope {
			if uri != space || prefix == "xml" {
				continue
			}
			if declaredWithin(top, n, prefix) {
				return
			}
			missing[prefix] = uri
			return
		}
	}
	check(n.name.Space)
	for _, a := range n.attrs {
		check(a.Name.Space)
	}
	for _, c := range n.children {
		collectUsedPrefixes(top, c, missing)
	}
}

// declaredWithin reports whether prefix is declared on n or an ancestor of n
// up to and including top.
func declaredWithin(top, n *node, prefix string) bool {
	for m := n; m != nil; m = m.parent {
		for _, a := range m.attrs {
			if a.Name.Space == "xmlns" && a.Name.Local == prefix {
				return true
			}
		}
		if m == top {
			break
		}
	}
	return false
}
