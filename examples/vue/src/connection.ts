// Is the API reachable? A request that never got a GraphQL answer (the fetch failed, or a proxy
// answered 502/503/504 for an API that is down) marks the app offline: the #offline banner shows,
// and the app retries by itself — on 다시 시도, on window focus, on the `online` event and on a
// timer with backoff — until an answer arrives; then whatever registered with onReconnect runs
// (the session restore, the queries' refetch). Nothing here ever logs the user out.
import { ref } from "vue";

export const offline = ref(false);

const FIRST_DELAY_MS = 1_000;
const MAX_DELAY_MS = 10_000;
let delay = FIRST_DELAY_MS;
let timer: ReturnType<typeof setTimeout> | undefined;
let retrying: Promise<void> | null = null;
let retry: () => Promise<void> = async () => undefined;

/** What to do to find out whether the API is back (and to reload what failed meanwhile). */
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
  if (!offline.value) delay = FIRST_DELAY_MS;
  offline.value = true;
  schedule();
}

export function markOnline(): void {
  offline.value = false;
  delay = FIRST_DELAY_MS;
  if (timer !== undefined) clearTimeout(timer);
  timer = undefined;
}

/** One retry at a time; a failed one schedules the next (markOffline). */
export function retryNow(): Promise<void> {
  retrying ??= retry()
    .catch(() => undefined)
    .finally(() => {
      retrying = null;
    });
  return retrying;
}

/** A response without a GraphQL answer: the API (or the way to it) is down, not the request wrong. */
export function unreachable(error: unknown): boolean {
  if (error instanceof TypeError) return true; // fetch: connection refused, DNS, CORS, offline
  const e = error as { statusCode?: number; result?: unknown; name?: string } | null;
  if (!e || typeof e !== "object") return false;
  if (typeof e.statusCode === "number") {
    // a proxy's 502/503/504 page, not the API's GraphQL answer
    const answered = typeof e.result === "object" && e.result !== null && "errors" in e.result;
    return !answered && e.statusCode >= 500;
  }
  return e.name === "ServerParseError";
}

for (const event of ["online", "focus"]) {
  window.addEventListener(event, () => {
    if (offline.value) void retryNow();
  });
}
