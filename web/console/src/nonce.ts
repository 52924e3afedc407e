// The nonce the gateway allows styles with this time (its Content-Security-Policy has no
// 'unsafe-inline'). Ant Design's style engine is given it (ConfigProvider `csp`); a few of its
// helpers add a style element of their own without one (rc-util's scrollbar measurement), so
// style elements that scripts of this page insert get it too. Markup injected as HTML still
// gets no nonce, which is what the policy is for.

export const nonce: string | undefined =
  document.querySelector<HTMLMetaElement>('meta[name="csp-nonce"]')?.content || undefined;

if (nonce) {
  for (const name of ["appendChild", "insertBefore"] as const) {
    const original = Node.prototype[name] as (this: Node, node: Node, ...rest: unknown[]) => Node;
    Object.defineProperty(Node.prototype, name, {
      configurable: true,
      writable: true,
      value(this: Node, node: Node, ...rest: unknown[]) {
        if (node instanceof HTMLStyleElement && !node.nonce) node.nonce = nonce!;
        return original.call(this, node, ...rest);
      },
    });
  }
}
