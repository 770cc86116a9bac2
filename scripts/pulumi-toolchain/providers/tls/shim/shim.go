// Package shim exposes the constructor of the upstream terraform TLS provider,
// whose package is internal: only a module rooted under
// github.com/hashicorp/terraform-provider-tls may import it.
package shim

import (
	"github.com/hashicorp/terraform-plugin-framework/provider"
	upstream "github.com/hashicorp/terraform-provider-tls/internal/provider"
)

// NewProvider returns the upstream terraform-plugin-framework provider.
func NewProvider() provider.Provider { return upstream.New() }
