// Is the API reachable? A request that got no GraphQL answer (the fetch failed, or the proxy in
// front answered 502/503/504 for an API that is down) marks the app offline: the #offline banner
// shows and the app retries by itself (다시 시도, window focus, the `online` event, a timer with
// backoff) until an answer arrives. Then the registered retry runs (the session restore, the
// queries' refetch). Being offline never logs anyone out.
import { ServerError, ServerParseError } from "@apollo/client/errors";
import { useSyncExternalStore } from "react";

const FIRST_DELAY_MS = 1_000;
const MAX_DELAY_MS = 10_000;

let offline = false;
let delay = FIRST_DELAY_MS;
let timer: ReturnType<typeof setTimeout> | undefined;
let retrying: Promise<void> | null = null;
let retry: () => Promise<void> = async () => undefined;
const listeners = new Set<() => void>();

function set(value: boolean): void {
  if (offline === value) return;
  offline = value;
  listeners.forEach((l) => l());
}

export function useOffline(): boolean {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => offline,
  );
}

/** What to run to find out whether the API is back and to reload what failed meanwhile. */
export function onReconnect(fn: () => Promise<void>): void {
  retry = fn;
}

function schedule(): void {
  if (timer !== undefined) return;
  timer = setTimeout(() => {
    timer = undefined;
    delay = Math.min(delay * 2, MAX_DELAY_MS);
    void retryNow();
  }, delay);
}

export function markOffline(): void {
  if (!offline) delay = FIRST_DELAY_MS;
  set(true);
  schedule();
}

export function markOnline(): void {
  delay = FIRST_DELAY_MS;
  clearTimeout(timer);
  timer = undefined;
  set(false);
}

/** One retry at a time; one that fails again schedules the next (markOffline). */
export function retryNow(): Promise<void> {
  retrying ??= retry()
    .catch(() => undefined)
    .finally(() => {
      retrying = null;
    });
  return retrying;
}

/** No GraphQL answer: the API (or the way to it) is down, the request itself was not refused. */
export function unreachable(error: unknown): boolean {
  if (error instanceof TypeError) return true; // fetch: connection refused, DNS, offline, CORS
  if (ServerParseError.is(error)) return true; // a proxy's text or HTML error page
  if (ServerError.is(error)) return error.statusCode >= 500 || error.statusCode === 0;
  return false;
}

for (const event of ["online", "focus"]) {
  window.addEventListener(event, () => {
    if (offline) void retryNow();
  });
}
