module zerotrust.local/pulumi-toolchain/provider-command

go 1.26.8

// pulumi-command has no provider/v1.2.1 tag: the provider module of release v1.2.1
// (commit 7f3eb6f3b77c, 2026-03-03T23:59:22Z) can only be named by a pseudo-version.
require github.com/pulumi/pulumi-command/provider v0.0.0-20260303235922-7f3eb6f3b77c
