//go:build tools

package tools

import _ "github.com/pulumi/pulumi-tls/provider/v5/cmd/pulumi-resource-tls"
