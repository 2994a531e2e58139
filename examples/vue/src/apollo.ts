// Apollo Client (3.x, what @vue/apollo-composable supports): the access token lives in memory
// only; the httpOnly refresh cookie gets a new one (restoreAccessToken) after a reload, after the
// mobile redirect, and when it expires.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, Observable } from "@apollo/client/core";
import { setContext } from "@apollo/client/link/context";
import { onError } from "@apollo/client/link/error";
import { print } from "graphql";
import { markOffline, markOnline, unreachable } from "./connection";
import { RESTORE } from "./operations";

/** Empty (the default): same origin, Vite proxies /graphql, /payments/complete and /sandbox to the
 * API, so the refresh cookie is first-party. Set VITE_POINTCHARGE_API_URL only for a cross-site
 * deployment (README: CORS origins, SameSite=None; Secure). */
export const API_URL: string = (import.meta.env.VITE_POINTCHARGE_API_URL ?? "").replace(/\/$/, "");

let accessToken: string | null = null;
let restoring: Promise<Session> | null = null;

/** ok: a new access token; none: the API answered that there is no valid login (the only case
 * that means signed out); offline: no answer (the API or the way to it is down) — keep waiting. */
export type Session = "ok" | "none" | "offline";

// Set while this tab is logged in: after a reload, "no login" although there was one tells a
// lost refresh cookie (a cross-site API without SameSite=None; Secure) from a plain logout.
const SIGNED_IN_FLAG = "pointcharge.signedIn";

export function setAccessToken(token: string | null): void {
  accessToken = token;
  if (token) sessionStorage.setItem(SIGNED_IN_FLAG, "1");
  else sessionStorage.removeItem(SIGNED_IN_FLAG);
}

/** A logout has begun: a reload from here on is no lost cookie, even before the API answers. */
export function forgetSignedIn(): void {
  sessionStorage.removeItem(SIGNED_IN_FLAG);
}

/** The API is on another site and this tab was logged in, yet the refresh cookie did not come. */
export function cookieLostCrossSite(): boolean {
  if (!API_URL || sessionStorage.getItem(SIGNED_IN_FLAG) !== "1") return false;
  try {
    return new URL(API_URL, window.location.href).origin !== window.location.origin;
  } catch {
    return false;
  }
}

async function askForToken(): Promise<Session> {
  let body: { data?: { restoreAccessToken?: { accessToken: string } | null } | null; errors?: { extensions?: { code?: unknown } }[] };
  try {
    const res = await fetch(`${API_URL}/graphql`, {
      method: "POST",
      credentials: "include",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ query: print(RESTORE) }),
    });
    body = await res.json();
  } catch {
    markOffline(); // refused, or a proxy's error page instead of a GraphQL answer
    return "offline";
  }
  markOnline();
  const token = body.data?.restoreAccessToken?.accessToken;
  if (token) {
    setAccessToken(token);
    return "ok";
  }
  accessToken = null;
  // Only the API saying "no valid login" signs out; any other failure (a database outage's
  // INTERNAL_SERVER_ERROR, RATE_LIMITED…) is retried like an outage.
  if (body.errors?.some((e) => e.extensions?.code === "UNAUTHENTICATED")) return "none";
  markOffline();
  return "offline";
}

/** One refresh at a time: refresh tokens rotate, and presenting a rotated one revokes the login. */
export function restoreSession(): Promise<Session> {
  restoring ??= askForToken().finally(() => {
    restoring = null;
  });
  return restoring;
}

const auth = setContext((_, { headers }) =>
  accessToken ? { headers: { ...headers, Authorization: `Bearer ${accessToken}` } } : {},
);

// An expired access token: renew it once through the cookie, then retry the operation.
const renew = onError(({ graphQLErrors, operation, forward }) => {
  const expired = graphQLErrors?.some((e) => e.extensions?.code === "UNAUTHENTICATED");
  if (!expired || !accessToken || operation.getContext().retried) return;
  return new Observable((observer) => {
    restoreSession().then((session) => {
      if (session !== "ok") {
        // offline: a network error (the banner is up and the retry refetches); none: signed out.
        observer.error(session === "offline" ? new TypeError("offline") : new Error("UNAUTHENTICATED"));
        return;
      }
      operation.setContext({ retried: true });
      forward(operation).subscribe(observer);
    });
  });
});

// Any GraphQL answer means the API is reachable; no answer at all means it is not (connection.ts).
const reachability = new ApolloLink((operation, forward) =>
  forward(operation).map((result) => {
    markOnline();
    return result;
  }),
);
const outage = onError(({ networkError }) => {
  if (networkError && unreachable(networkError)) markOffline();
});

// A file among the variables (uploadFile): the GraphQL multipart request spec, with the header
// that tells the API this is no cross-site form post (CSRF: Apollo-Require-Preflight).
const hasFile = (variables: Record<string, unknown>) => Object.values(variables).some((v) => v instanceof Blob);
const multipart = new ApolloLink(
  (operation) =>
    new Observable((observer) => {
      const files = Object.entries(operation.variables).filter(([, v]) => v instanceof Blob);
      const variables = { ...operation.variables, ...Object.fromEntries(files.map(([k]) => [k, null])) };
      const form = new FormData();
      form.append("operations", JSON.stringify({ query: print(operation.query), variables, operationName: operation.operationName }));
      form.append("map", JSON.stringify(Object.fromEntries(files.map(([k], i) => [String(i), [`variables.${k}`]]))));
      files.forEach(([, file], i) => form.append(String(i), file as Blob));
      const { headers } = operation.getContext() as { headers?: Record<string, string> };
      fetch(`${API_URL}/graphql`, {
        method: "POST",
        credentials: "include",
        headers: { ...headers, "Apollo-Require-Preflight": "true" },
        body: form,
      })
        .then(async (res) => {
          // A proxy's own limit answers before the API does, and not in GraphQL.
          const tooLarge = { errors: [{ message: "파일이 너무 큽니다.", extensions: { code: "FILE_TOO_LARGE" } }] };
          const body = await res.json().catch(() => {
            if (res.status === 413) return tooLarge;
            throw Object.assign(new Error(`HTTP ${res.status}`), { name: "ServerParseError", statusCode: res.status });
          });
          observer.next(body);
          observer.complete();
        })
        .catch((error: unknown) => observer.error(error));
    }),
);
const http = new HttpLink({ uri: `${API_URL}/graphql`, credentials: "include" });

export const client = new ApolloClient({
  link: ApolloLink.from([
    outage,
    renew,
    reachability,
    auth,
    ApolloLink.split((operation) => hasFile(operation.variables), multipart, http),
  ]),
  cache: new InMemoryCache(),
});
