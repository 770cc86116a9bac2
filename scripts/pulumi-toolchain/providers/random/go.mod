module zerotrust.local/pulumi-toolchain/provider-random

go 1.26.8

require (
	github.com/pulumi/pulumi-random/provider/v4 v4.21.2
	github.com/terraform-providers/terraform-provider-random/shim v0.0.0
)

// Copied from pulumi-random provider/go.mod at tag v4.21.2 (commit 48ee6c4732b1).
replace (
	github.com/hashicorp/terraform-plugin-sdk/v2 => github.com/pulumi/terraform-plugin-sdk/v2 v2.0.0-20260318212141-5525259d096b
	github.com/terraform-providers/terraform-provider-random/shim => ./shim
)
