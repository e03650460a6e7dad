// Package store is the home of callrec's state stores: orgs, API tokens,
// recordings, the control plane's documents (directory.Tx: locations,
// people, virtual lines, features, trunks, providers, terms, accounts,
// jobs, SIPREC sources) and the audit log. The implementations live in sub-packages (sqlite, the embedded
// default; postgres later) and export concrete types; the interfaces they
// satisfy belong to their consumers (the recorder, the API), and the shared
// conformance suite in storetest declares the one it tests.
//
// This package holds no code. Store implementations must never hold audio
// (that is the blob store's job), never log or keep API token values (only
// their SHA-256 hashes), and never import the planes that use them.
package store
