// What a lab stack exports about its lab, read back (pure): keyed by name since the outputs were
// made maps, lists in stacks last deployed before (both are read until their next `pulumi up`).

/** A lab host's namespace from the stack's labNamespaces (keyed by node; a list in stacks deployed before). */
export function namespaceOf(labNamespaces: Record<string, string> | string[], node: string): string {
    const ns = Array.isArray(labNamespaces) ? labNamespaces.find((n) => n.endsWith(`-${node}`)) : labNamespaces[node];
    if (!ns) throw new Error(`the stack's labNamespaces has no namespace for ${node}`);
    return ns;
}

/** The lab's interfaces from the stack's labInterfaces: the bridge first (keyed by role; a list in stacks deployed before). */
export function labInterfaceList(labInterfaces: Record<string, string> | string[]): string[] {
    return Array.isArray(labInterfaces) ? labInterfaces : [labInterfaces.bridge, ...Object.entries(labInterfaces).filter(([k]) => k !== "bridge").map(([, v]) => v)];
}
