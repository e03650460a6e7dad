package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/store/sqlite"
)

const tokenUsage = `usage:
  callrec token create --role ROLE [--org ORG] [--email EMAIL] [--person ID] [--locations ID,...] [--name NAME] [--expires DURATION]
  callrec token list [--org ORG]
  callrec token revoke TOKEN-ID

ROLE is one of: ` + "partnerAdmin, fullAdmin, readOnlyAdmin, locationAdmin, user, complianceOfficer" + `.
ORG is an org name or id (default: the "default" org; ignored for partnerAdmin).
The database is found as "callrec serve" finds it: --data-dir, --db, --config
or their CALLREC_* variables. The token value is printed once and never stored.
`

// tokenCmd is "callrec token": create, list and revoke API tokens
// directly in the database (the API's /v1/tokens does the same over HTTP).
func tokenCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, tokenUsage)
		return nil
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("callrec token "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var storeArgs []string
	for _, name := range []string{"data-dir", "db", "config"} {
		fs.Func(name, "as for callrec serve", func(v string) error {
			storeArgs = append(storeArgs, "--"+name+"="+v)
			return nil
		})
	}
	role := fs.String("role", "", "role of the token")
	orgRef := fs.String("org", callrec.DefaultOrgName, "org name or id")
	email := fs.String("email", "", "email of the holder (audit, provider admin identity)")
	person := fs.String("person", "", "person id (role user)")
	locations := fs.String("locations", "", "comma-separated location ids (role locationAdmin)")
	name := fs.String("name", "", "label of the token")
	expires := fs.Duration("expires", 0, "lifetime, e.g. 720h (default: never expires)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(storeArgs, stderr)
	if err != nil {
		return err
	}
	ctx := context.Background()
	st, _, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()

	switch sub {
	case "create":
		if fs.NArg() > 0 {
			return fmt.Errorf("token create: unexpected argument %q", fs.Arg(0))
		}
		t := &callrec.Token{Name: *name, Role: *role, Email: *email, PersonID: *person}
		if !slices.Contains(callrec.Roles, t.Role) {
			return fmt.Errorf("token create: --role %q is not one of %s", *role, strings.Join(callrec.Roles, ", "))
		}
		if *locations != "" {
			t.LocationIDs = strings.Split(*locations, ",")
		}
		if *expires < 0 {
			return fmt.Errorf("token create: --expires %v is negative", *expires)
		} else if *expires > 0 {
			t.Expires = time.Now().Add(*expires).UTC()
		}
		if t.Role == callrec.RolePartnerAdmin {
			t.PartnerID = callrec.RootPartner
		} else {
			org, err := findOrg(ctx, st, *orgRef)
			if err != nil {
				return fmt.Errorf("token create: --org %q: %w", *orgRef, err)
			}
			t.OrgID = org.ID
		}
		if t.Role == callrec.RoleUser && t.PersonID == "" {
			return fmt.Errorf("token create: --person is required for role user")
		}
		if t.Role == callrec.RoleLocationAdmin && len(t.LocationIDs) == 0 {
			return fmt.Errorf("token create: --locations is required for role locationAdmin")
		}
		if t.Name == "" {
			t.Name = t.Role + " token"
		}
		value, err := newTokenValue()
		if err != nil {
			return err
		}
		t.Hash = HashToken(value)
		if err := st.CreateToken(ctx, t); err != nil {
			return fmt.Errorf("token create: %w", err)
		}
		fmt.Fprintf(stderr, "created token %s (%s); the value below is shown once\n", t.ID, t.Role)
		fmt.Fprintln(stdout, value)
		return nil
	case "list":
		orgID := ""
		if isSet(fs, "org") {
			org, err := findOrg(ctx, st, *orgRef)
			if err != nil {
				return fmt.Errorf("token list: --org %q: %w", *orgRef, err)
			}
			orgID = org.ID
		}
		toks, err := st.ListTokens(ctx, orgID, "")
		if err != nil {
			return fmt.Errorf("token list: %w", err)
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tROLE\tORG\tEMAIL\tNAME\tCREATED\tEXPIRES")
		for _, t := range toks {
			exp := "never"
			if !t.Expires.IsZero() {
				exp = t.Expires.Format(time.RFC3339)
			}
			org := t.OrgID
			if org == "" {
				org = "partner:" + t.PartnerID
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Role, org, t.Email, t.Name, t.Created.Format(time.RFC3339), exp)
		}
		return tw.Flush()
	case "revoke":
		if fs.NArg() != 1 {
			return fmt.Errorf("token revoke: give exactly one token id")
		}
		if err := st.DeleteToken(ctx, fs.Arg(0)); err != nil {
			return fmt.Errorf("token revoke %s: %w", fs.Arg(0), err)
		}
		fmt.Fprintf(stdout, "revoked token %s\n", fs.Arg(0))
		return nil
	}
	return fmt.Errorf("token: unknown subcommand %q\n%s", sub, tokenUsage)
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// findOrg finds an org by id or by name.
func findOrg(ctx context.Context, st *sqlite.Store, ref string) (*callrec.Org, error) {
	var org *callrec.Org
	err := st.View(ctx, func(tx directory.Tx) error {
		var err error
		if org, err = directory.Orgs.Get(ctx, tx, "", ref); err == nil {
			return nil
		}
		org, err = directory.Orgs.Lookup(ctx, tx, directory.OrgNameKey(ref))
		return err
	})
	return org, err
}

// newTokenValue returns a new bearer value: "crk_" and 32 random bytes.
func newTokenValue() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	return "crk_" + base64.RawURLEncoding.EncodeToString(b[:]), nil
}
