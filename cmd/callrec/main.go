// Command callrec is the call recording platform: `callrec serve` runs the
// REST API and the SIPREC recording server on embedded defaults. All wiring
// lives in package app; this file only hands it the command line.
package main

import (
	"os"

	"github.com/callrec/callrec/app"
)

func main() {
	os.Exit(app.Main(os.Args[1:], os.Stdout, os.Stderr))
}
