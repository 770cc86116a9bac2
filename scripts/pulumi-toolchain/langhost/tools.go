//go:build tools

// Wrapper module for the nodejs language host. The standalone module
// github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3 is not
// served by the module proxy reachable here; the last release in which the
// host was still part of github.com/pulumi/pulumi/sdk/v3 is v3.68.0, so it is
// built from there. The replace below is the one in sdk/go.mod at v3.68.0.
package tools

import _ "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs"
