import type { ReactNode } from "react";

/** A list's state: could not be loaded (and nothing kept from before), still loading, empty, or
 * its items. */
export function Listed(props: { loading: boolean; error?: unknown; count: number; failed: string; empty: ReactNode; children: ReactNode }) {
  if (props.error && !props.count) return <p className="muted">{props.failed}</p>;
  if (props.loading && !props.count) return <p className="muted">불러오는 중…</p>;
  if (!props.count) return props.empty;
  return props.children;
}
