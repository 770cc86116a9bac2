module github.com/hashicorp/terraform-provider-tls/shim

go 1.26.8

// Same upstream version as pulumi-tls provider/go.mod at v5.6.1 requires.
require github.com/hashicorp/terraform-provider-tls v1.2.1-0.20260910152143-623d9ccc2d96
