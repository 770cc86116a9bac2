module zerotrust.local/pulumi-toolchain/provider-tls

go 1.26.8

require (
	github.com/hashicorp/terraform-provider-tls/shim v0.0.0
	github.com/pulumi/pulumi-tls/provider/v5 v5.6.1
)

// Copied from pulumi-tls provider/go.mod at tag v5.6.1 (commit ab4644ab6b46).
replace (
	github.com/hashicorp/terraform-plugin-sdk/v2 => github.com/pulumi/terraform-plugin-sdk/v2 v2.0.0-20260318212141-5525259d096b
	github.com/hashicorp/terraform-provider-tls/shim => ./shim
)
