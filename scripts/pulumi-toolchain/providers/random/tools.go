//go:build tools

package tools

import _ "github.com/pulumi/pulumi-random/provider/v4/cmd/pulumi-resource-random"
