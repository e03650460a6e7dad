package api

// The shared shape of the admin handlers: run a transaction and answer
// 200 with a body or 204; load the object a path names in the org (or
// 404); store a directory object with its unique keys checked and the
// change audited in the same transaction; and the list, get, update and
// delete handlers over a directory kind. What differs between kinds
// (validation, extra checks, rendering) is passed in; nothing here knows
// a business rule.

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/policy"
)

// viewJSON runs fn in a read transaction and answers 200 with what it
// returns.
func (s *server) viewJSON(w http.ResponseWriter, r *http.Request, fn func(ctx context.Context, tx directory.Tx) (any, error)) error {
	return txJSON(w, r, s.store.View, fn)
}

// updateJSON runs fn in a read-write transaction and answers 200 with
// what it returns once the transaction is committed.
func (s *server) updateJSON(w http.ResponseWriter, r *http.Request, fn func(ctx context.Context, tx directory.Tx) (any, error)) error {
	return txJSON(w, r, s.store.Update, fn)
}

// txJSON runs fn in a transaction of run and answers 200 with what it returns.
func txJSON(w http.ResponseWriter, r *http.Request, run func(context.Context, func(directory.Tx) error) error, fn func(ctx context.Context, tx directory.Tx) (any, error)) error {
	var out any
	if err := run(r.Context(), func(tx directory.Tx) error {
		var err error
		out, err = fn(r.Context(), tx)
		return err
	}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// crViewJSON is viewJSON with the org's policy snapshot.
func (s *server) crViewJSON(w http.ResponseWriter, r *http.Request, orgID string, fn func(tx directory.Tx, snap *policy.Snapshot) (any, error)) error {
	return s.viewJSON(w, r, func(ctx context.Context, tx directory.Tx) (any, error) {
		snap, err := crSnapshot(ctx, tx, orgID)
		if err != nil {
			return nil, err
		}
		return fn(tx, snap)
	})
}

// noContent answers 204 when the change succeeded (err nil), else
// returns err to be rendered.
func noContent(w http.ResponseWriter, err error) error {
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// updateNoContent runs fn in a read-write transaction and answers 204.
func (s *server) updateNoContent(w http.ResponseWriter, r *http.Request, fn func(ctx context.Context, tx directory.Tx) error) error {
	return noContent(w, s.store.Update(r.Context(), func(tx directory.Tx) error { return fn(r.Context(), tx) }))
}

// dirLoad reads the object of kind k whose id a client sent (raw: a Webex
// id of idType or a bare UUID) in the org. An id that does not parse, or
// names no object of the org, is 404 "<thing> <raw> was not found".
func dirLoad[T any](ctx context.Context, tx directory.Tx, k directory.Kind[T], orgID, idType, thing, raw string) (*T, error) {
	id, ok := parseID(idType, raw)
	if !ok {
		return nil, notFoundThing(thing, raw)
	}
	return dirGet(ctx, tx, k, orgID, id, thing, raw)
}

// dirType describes a kind of directory object to the shared handlers.
type dirType[T any] struct {
	kind      directory.Kind[T]
	wildcard  string // path wildcard of its id, e.g. "trunkId"
	idType    string // Webex id type of its id
	thing     string // how a 404 names it: "Trunk"
	noun      string // how a 409 of the store names it: "trunk"
	auditType string // audit object type
	id        func(*T) string
	keys      func(*T) []keyUse // the unique keys it holds, with the fields a 409 names
	// location is the location whose administrators may change the
	// object; nil: only full and partner admins may, checked before the
	// body is read.
	location func(*T) string
	// load reads the object the path names (nil: by wildcard and idType).
	load func(ctx context.Context, tx directory.Tx, r *http.Request, orgID string) (*T, error)
	// check runs before the object is stored, after its keys (nil: none).
	check func(ctx context.Context, tx directory.Tx, v *T) error
	// changed runs when an update changes the object, after the location
	// checks and before the keys (nil: none).
	changed func(ctx context.Context, tx directory.Tx, orgID string, before, next *T) error
	// audited is the form the audit log keeps (nil: the object itself).
	audited func(*T) any
	// member: objects of the kind can be provider-account members
	// (people, virtual lines); deleting one ends its membership.
	member bool
}

// dirRender renders an object as the API shows it; tx serves kinds whose
// rendering reads other objects (feature agents).
type dirRender[T any] func(ctx context.Context, tx directory.Tx, orgID string, v *T) (any, error)

// plainRender is the dirRender of a render function that reads nothing.
func plainRender[T, J any](render func(*T) J) dirRender[T] {
	return func(_ context.Context, _ directory.Tx, _ string, v *T) (any, error) { return render(v), nil }
}

// fromPath reads the object the request's path names in the org, or 404.
func (d *dirType[T]) fromPath(ctx context.Context, tx directory.Tx, r *http.Request, orgID string) (*T, error) {
	if d.load != nil {
		return d.load(ctx, tx, r, orgID)
	}
	return dirLoad(ctx, tx, d.kind, orgID, d.idType, d.thing, r.PathValue(d.wildcard))
}

// auditForm is v as the audit log keeps it.
func (d *dirType[T]) auditForm(v *T) any {
	if d.audited != nil {
		return d.audited(v)
	}
	return v
}

// requireAt checks that tok may change v: at its location, or at org
// level for kinds without one (already checked before the body was read).
func (d *dirType[T]) requireAt(tok *callrec.Token, org *callrec.Org, v *T) error {
	if d.location == nil {
		return nil
	}
	return require(tok, org, permWrite, d.location(v))
}

// requireOrgLevel checks, for kinds without a location, that tok may
// change the org's configuration.
func (d *dirType[T]) requireOrgLevel(tok *callrec.Token, org *callrec.Org) error {
	if d.location != nil {
		return nil
	}
	return require(tok, org, permWrite, "")
}

// dirSave stores next after checking its unique keys (409 naming the
// field) and d.check, and audits it in tx: created when before is nil,
// else updated from before.
func dirSave[T any](s *server, ctx context.Context, tx directory.Tx, tok *callrec.Token, orgID string, d *dirType[T], before, next *T) error {
	if err := checkKeysFree(ctx, tx, d.kind.Name, d.id(next), d.keys(next)); err != nil {
		return err
	}
	if d.check != nil {
		if err := d.check(ctx, tx, next); err != nil {
			return err
		}
	}
	if err := d.kind.Put(ctx, tx, next); err != nil {
		return dirPutErr(d.noun, err)
	}
	if before == nil {
		return s.audit(ctx, tx, tok, orgID, "create", d.auditType, d.id(next), nil, d.auditForm(next))
	}
	return s.audit(ctx, tx, tok, orgID, "update", d.auditType, d.id(next), d.auditForm(before), d.auditForm(next))
}

// dirRemove deletes v and audits the deletion in tx.
func dirRemove[T any](s *server, ctx context.Context, tx directory.Tx, tok *callrec.Token, orgID string, d *dirType[T], v *T) error {
	if err := d.kind.Delete(ctx, tx, orgID, d.id(v)); err != nil {
		return fmt.Errorf("api: delete %s: %w", d.noun, err)
	}
	if d.member {
		if err := s.dropMembership(ctx, tx, tok, orgID, d.id(v)); err != nil {
			return err
		}
	}
	return s.audit(ctx, tx, tok, orgID, "delete", d.auditType, d.id(v), d.auditForm(v), nil)
}

// dirList answers one start/max page (100 by default, at most 1000) of
// the objects of kind k in orgID ("" = every org) that keep accepts (nil:
// all), rendered, under key.
func dirList[T, J any](s *server, w http.ResponseWriter, r *http.Request, k directory.Kind[T], orgID, key string, keep func(*T) bool, render func(*T) J) error {
	start, max, err := listParams100(r)
	if err != nil {
		return err
	}
	var all []T
	if err := s.store.View(r.Context(), func(tx directory.Tx) error {
		var err error
		all, err = k.List(r.Context(), tx, orgID)
		return err
	}); err != nil {
		return fmt.Errorf("api: list %s: %w", k.Name, err)
	}
	items := make([]J, 0, len(all))
	for i := range all {
		if keep == nil || keep(&all[i]) {
			items = append(items, render(&all[i]))
		}
	}
	writePage(s, w, r, items, start, max, key, nil)
	return nil
}

// dirGetHandler is the GET of one object: the one the path names, rendered.
func dirGetHandler[T any](s *server, d *dirType[T], render dirRender[T]) orgHandler {
	return func(w http.ResponseWriter, r *http.Request, _ *callrec.Token, org *callrec.Org) error {
		return s.viewJSON(w, r, func(ctx context.Context, tx directory.Tx) (any, error) {
			v, err := d.fromPath(ctx, tx, r, org.ID)
			if err != nil {
				return nil, err
			}
			return render(ctx, tx, org.ID, v)
		})
	}
}

// dirUpdateHandler is the PUT of one object, a partial update (§1.1):
// the body B is applied to a copy of the object by apply (which
// validates it); a change that changes nothing is neither stored nor
// audited. A location admin must administer the object's location, and
// the new one when it moves.
func dirUpdateHandler[T, B any](s *server, d *dirType[T], apply func(ctx context.Context, tx directory.Tx, org *callrec.Org, v *T, body *B) error, render dirRender[T]) orgHandler {
	return func(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error {
		if err := d.requireOrgLevel(tok, org); err != nil {
			return err
		}
		var body B
		if err := decodeBody(r, &body, true); err != nil {
			return err
		}
		return s.updateJSON(w, r, func(ctx context.Context, tx directory.Tx) (any, error) {
			before, err := d.fromPath(ctx, tx, r, org.ID)
			if err != nil {
				return nil, err
			}
			if err := d.requireAt(tok, org, before); err != nil {
				return nil, err
			}
			next := *before
			if err := apply(ctx, tx, org, &next, &body); err != nil {
				return nil, err
			}
			if !sameJSON(before, &next) {
				if d.location != nil && d.location(&next) != d.location(before) {
					if err := d.requireAt(tok, org, &next); err != nil {
						return nil, err
					}
				}
				if d.changed != nil {
					if err := d.changed(ctx, tx, org.ID, before, &next); err != nil {
						return nil, err
					}
				}
				if err := dirSave(s, ctx, tx, tok, org.ID, d, before, &next); err != nil {
					return nil, err
				}
			}
			return render(ctx, tx, org.ID, &next)
		})
	}
}

// dirDeleteHandler is the DELETE of one object the path names (204).
func dirDeleteHandler[T any](s *server, d *dirType[T]) orgHandler {
	return func(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error {
		if err := d.requireOrgLevel(tok, org); err != nil {
			return err
		}
		return s.updateNoContent(w, r, func(ctx context.Context, tx directory.Tx) error {
			v, err := d.fromPath(ctx, tx, r, org.ID)
			if err != nil {
				return err
			}
			if err := d.requireAt(tok, org, v); err != nil {
				return err
			}
			return dirRemove(s, ctx, tx, tok, org.ID, d, v)
		})
	}
}

// dirCreate stores a new object v built and validated by the handler
// (build runs first in the transaction; it may resolve references) and
// answers 200 with it rendered.
func dirCreate[T any](s *server, w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org, d *dirType[T], v *T, build func(ctx context.Context, tx directory.Tx) error, render dirRender[T]) error {
	return s.updateJSON(w, r, func(ctx context.Context, tx directory.Tx) (any, error) {
		if build != nil {
			if err := build(ctx, tx); err != nil {
				return nil, err
			}
		}
		if err := dirSave(s, ctx, tx, tok, org.ID, d, nil, v); err != nil {
			return nil, err
		}
		return render(ctx, tx, org.ID, v)
	})
}

// dropMembership removes a deleted person or virtual line from the org's
// provider accounts (members and the plan they had), auditing each
// account it changes. Its recordings stay, with the expiry they have.
func (s *server) dropMembership(ctx context.Context, tx directory.Tx, tok *callrec.Token, orgID, memberID string) error {
	accts, err := directory.Accounts.List(ctx, tx, orgID)
	if err != nil {
		return fmt.Errorf("api: drop membership: %w", err)
	}
	for i := range accts {
		before := accts[i]
		next := before
		next.Members = slices.DeleteFunc(slices.Clone(before.Members), func(m callrec.AccountMember) bool { return m.ID == memberID })
		if len(next.Members) == len(before.Members) {
			continue
		}
		if err := directory.Accounts.Put(ctx, tx, &next); err != nil {
			return fmt.Errorf("api: drop membership: %w", err)
		}
		if err := s.audit(ctx, tx, tok, orgID, "update", "providerAccount", directory.PairID(orgID, next.ProviderID), &before, &next); err != nil {
			return err
		}
	}
	return nil
}
