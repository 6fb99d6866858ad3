// Command berth is a self-hosted container registry that AWS tooling takes
// for Amazon ECR. `berth serve` runs it; `berth keys rotate` rotates the
// key-encryption key; `berth iam` manages identities; `berth gc` shows and
// runs garbage collection.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/berth-registry/berth/config"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `usage: berth <command> [flags]

commands:
  serve          run the registry (embedded defaults without --config)
  keys rotate    add a new key-encryption key and re-wrap every data key
  iam            users, roles, access keys, policies, registry credentials (berth iam help)
  gc status      the garbage collector's queue, totals and last failure
  gc run         review now whatever is due (--dry-run: list what would go)
  version        print the version
`

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(args[1:])
	case "keys":
		err = keys(args[1:])
	case "iam":
		err = runIAM(args[1:])
	case "gc":
		err = runGC(args[1:])
	case "version", "--version":
		fmt.Println("berth", version)
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "berth: unknown command %q\n%s", args[0], usage)
		return 2
	}
	if err == nil {
		return 0
	}
	fmt.Fprintln(os.Stderr, "berth:", err)
	var fe *config.FieldError
	if errors.As(err, &fe) || errors.Is(err, config.ErrUsage) {
		return 2
	}
	return 1
}
