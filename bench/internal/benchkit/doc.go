// Package benchkit holds what callrec's load tools (bench/siprecload,
// bench/callload) share: reading a process's CPU time and memory from
// /proc, reading recordings back through the REST API and checking them
// against the calls that made them, percentiles of latency samples, and
// the loopback-only guard for the addresses they are pointed at.
//
// It is for benchmarks only: it must never be imported by the server, and
// nothing in it may talk to a non-loopback address.
package benchkit
