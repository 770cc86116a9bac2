module github.com/terraform-providers/terraform-provider-random/shim

go 1.26.8

// Same upstream version as pulumi-random provider/go.mod at v4.21.2 requires.
require github.com/terraform-providers/terraform-provider-random v1.3.2-0.20260911123554-b59b1791a688
