package api

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/callrec/callrec"
)

// authedFunc is a handler that runs for an authenticated token.
type authedFunc func(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error

// authed requires a known bearer token before calling h.
func (s *server) authed(h authedFunc) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		tok, err := s.authenticate(r)
		if err != nil {
			return err
		}
		return h(w, r, tok)
	})
}

// authenticate resolves the bearer token (RFC 6750 §2.1). Missing or
// unknown tokens give 401 with WWW-Authenticate.
func (s *server) authenticate(r *http.Request) (*callrec.Token, error) {
	scheme, value, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	value = strings.TrimSpace(value)
	if !ok || !strings.EqualFold(scheme, "Bearer") || value == "" {
		return nil, &apiError{status: http.StatusUnauthorized, msgs: []string{msgUnauthorized}}
	}
	sum := sha256.Sum256([]byte(value))
	tok, err := s.store.TokenByHash(r.Context(), hex.EncodeToString(sum[:]))
	if errors.Is(err, callrec.ErrNotFound) {
		return nil, &apiError{status: http.StatusUnauthorized, msgs: []string{msgUnauthorized}}
	}
	if err != nil {
		return nil, fmt.Errorf("api: look up token: %w", err)
	}
	if tok == nil {
		return nil, &apiError{status: http.StatusUnauthorized, msgs: []string{msgUnauthorized}}
	}
	info(r.Context()).tokenID = tok.ID
	return tok, nil
}
