package registrar

import (
	"context"
	"errors"
	"fmt"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
)

// Account is what the registrar needs of a person with SIP credentials:
// who they are and the HA1 hashes of their password (RFC 7616 §3.4.2,
// "user:realm:password"), never the password.
type Account struct {
	PersonID  string
	OrgID     string
	Realm     string // "" = sipdigest.DefaultRealm
	HA1MD5    string
	HA1SHA256 string
}

// Credentials finds the account of a SIP user name. An unknown user is
// an error wrapping callrec.ErrNotFound (the device is challenged
// again); any other error is a failure of the store (503).
type Credentials interface {
	Lookup(ctx context.Context, username string) (Account, error)
}

// directoryCredentials looks people up in the directory.
type directoryCredentials struct {
	st directory.Store
}

// NewDirectoryCredentials returns Credentials over the directory: a
// person is found by directory.SIPUserKey(username) and authenticates
// with their callrec.SIPCredentials. A SIPREC source holding the user
// name is not a person, so it is not found.
func NewDirectoryCredentials(st directory.Store) Credentials {
	return &directoryCredentials{st: st}
}

var _ Credentials = (*directoryCredentials)(nil)

// Lookup implements Credentials.
func (d *directoryCredentials) Lookup(ctx context.Context, username string) (Account, error) {
	var acc Account
	err := d.st.View(ctx, func(tx directory.Tx) error {
		p, err := directory.People.Lookup(ctx, tx, directory.SIPUserKey(username))
		if err != nil {
			return err
		}
		if p.SIP == nil || p.SIP.Username != username {
			return fmt.Errorf("directory: person %q has no SIP user %q: %w", p.ID, username, callrec.ErrNotFound)
		}
		acc = Account{PersonID: p.ID, OrgID: p.OrgID, Realm: p.SIP.Realm, HA1MD5: p.SIP.HA1MD5, HA1SHA256: p.SIP.HA1SHA256}
		return nil
	})
	if err != nil {
		return Account{}, fmt.Errorf("registrar: look up SIP user %q: %w", username, err)
	}
	return acc, nil
}

// isUnknown says whether a Lookup error means no such user.
func isUnknown(err error) bool { return errors.Is(err, callrec.ErrNotFound) }
