// Package shim exposes the constructor of the upstream terraform random provider,
// whose package is internal: only a module rooted under
// github.com/terraform-providers/terraform-provider-random may import it.
package shim

import (
	"github.com/hashicorp/terraform-plugin-framework/provider"
	upstream "github.com/terraform-providers/terraform-provider-random/internal/provider"
)

// NewProvider returns the upstream terraform-plugin-framework provider.
func NewProvider() provider.Provider { return upstream.New() }
