package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/callrec/callrec"
)

// Action is what a caller wants to do with one recording.
type Action string

// The actions [Allowed] decides on.
const (
	// ActionList: the recording may appear in a list.
	ActionList Action = "list"
	// ActionRead: details and metadata.
	ActionRead Action = "read"
	// ActionDownload: a temporary download link is handed out.
	ActionDownload Action = "download"
	// ActionSoftDelete: move to the recycle bin (softDelete) and back (restore).
	ActionSoftDelete Action = "softDelete"
	// ActionPurge: delete the audio for good (DELETE, purge).
	ActionPurge Action = "purge"
	// ActionReassign: give the recording to another owner.
	ActionReassign Action = "reassign"
)

// Allowed says whether the token may do act on rec. It is the single
// authorisation rule of the recordings API; handlers answer 404 when
// ActionRead is refused (the caller must not learn that the recording
// exists) and 403 when a visible recording refuses another action.
//
// Rules in issue 3 (interfaces.md, "First admin"):
//   - a recording still being recorded is visible to nobody;
//   - the partner admin holds compliance-officer rights over every org: it
//     may do everything with every recording, purged ones included;
//   - a compliance officer may do everything with the recordings of its org;
//   - any other role may do nothing.
//
// The control plane extends this with users (their own recordings, never
// purged ones, downloads unless Prevent Downloading is on) and org admins
// (read and manage but no download links, §10.5).
func Allowed(tok *callrec.Token, rec *callrec.Recording, act Action) bool {
	if tok == nil || rec == nil || rec.Status == callrec.StatusRecording {
		return false
	}
	switch act {
	case ActionList, ActionRead, ActionDownload, ActionSoftDelete, ActionPurge, ActionReassign:
	default:
		return false
	}
	switch tok.Role {
	case callrec.RolePartnerAdmin:
		return true
	case callrec.RoleComplianceOfficer:
		return tok.OrgID != "" && tok.OrgID == rec.OrgID
	}
	return false
}

// isAdmin says whether the role may use the admin list and must name an
// owner in the bulk "all" actions (§10.8: admins give ownerEmail).
func isAdmin(tok *callrec.Token) bool {
	return tok.Role == callrec.RolePartnerAdmin || tok.Role == callrec.RoleComplianceOfficer
}

// orgScope returns the org a query of tok is limited to ("" = every org).
// A partner admin may narrow to one org with the orgId parameter; any other
// token is held to its own org and may not name another.
func orgScope(tok *callrec.Token, requested string) (string, error) {
	if tok.Role == callrec.RolePartnerAdmin {
		return requested, nil
	}
	if requested != "" && requested != tok.OrgID {
		return "", forbidden("orgId: the token may not act on org " + quote(requested))
	}
	if tok.OrgID == "" {
		// No org and no partner rights: scope to an org that cannot match.
		return "\x00none", nil
	}
	return tok.OrgID, nil
}

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

// person is a user of an org, as the reassign action needs it.
type person struct {
	ID    string
	OrgID string
	Email string
}

// userDirectory finds people by email. orgID "" means any org. It returns
// an error wrapping callrec.ErrNotFound when there is no such user.
type userDirectory interface {
	PersonByEmail(ctx context.Context, orgID, email string) (*person, error)
}

// noUsers is the directory of issue 3: no people exist yet (the control
// plane brings them), so nobody can receive recordings.
type noUsers struct{}

func (noUsers) PersonByEmail(_ context.Context, _, email string) (*person, error) {
	return nil, fmt.Errorf("api: person %q: %w", email, callrec.ErrNotFound)
}
