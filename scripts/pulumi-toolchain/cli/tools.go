//go:build tools

// Wrapper module for the Pulumi CLI. It only pins versions: setup-pulumi.sh runs
// `go build github.com/pulumi/pulumi/pkg/v3/cmd/pulumi` inside a copy of this
// directory, so this module's go.mod (requirements + the replace directives
// copied from pkg/go.mod) decides what gets compiled.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
