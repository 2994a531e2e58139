// Apollo Client: the access token lives in memory only; the httpOnly refresh cookie gets a new
// one (restoreAccessToken) after a reload, after the mobile redirect, and when it expires.
import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache } from "@apollo/client";
import { SetContextLink } from "@apollo/client/link/context";
import { ErrorLink } from "@apollo/client/link/error";
import { print } from "graphql";
import { from, mergeMap, tap } from "rxjs";
import { markOffline, markOnline, unreachable } from "./connection";
import { RESTORE } from "./operations";
import { hasFiles, uploadLink } from "./upload";

/** Empty (the default): same origin, Vite proxies /graphql, /payments/complete and /sandbox to the
 * API, so the refresh cookie is first-party. Set VITE_POINTCHARGE_API_URL only for a cross-site
 * deployment (README: CORS origins, SameSite=None; Secure). */
export const API_URL: string = (import.meta.env.VITE_POINTCHARGE_API_URL ?? "").replace(/\/$/, "");
export const GRAPHQL_URL = `${API_URL}/graphql`;

/** The API lives on another origin: its refresh cookie is third-party here. */
export const crossOrigin = (): boolean => !!API_URL && new URL(API_URL, window.location.href).origin !== window.location.origin;

// A login happened in this tab (sessionStorage: per tab, survives reloads). A reload that then
// finds no refresh cookie on a cross-origin API is the blocked third-party cookie, not a logout.
const SIGNED_IN_FLAG = "pointcharge.signedIn";

let accessToken: string | null = null;

/** in: a new access token. out: the API answered that there is no valid login (the only case
 * that means signed out). no-cookie: out, because the browser sent no cookie at all to an API on
 * another origin although this tab had logged in. unreachable: no answer; keep waiting and retry. */
export type Restored = "in" | "out" | "no-cookie" | "unreachable";
let restoring: Promise<Restored> | null = null;

export function setAccessToken(token: string | null): void {
  accessToken = token;
  if (token) sessionStorage.setItem(SIGNED_IN_FLAG, "1");
  else sessionStorage.removeItem(SIGNED_IN_FLAG);
}

/** A logout has begun: a reload from here on is no lost cookie, even before the API answers. */
export function forgetSignedIn(): void {
  sessionStorage.removeItem(SIGNED_IN_FLAG);
}

interface RestoreAnswer {
  data?: { restoreAccessToken?: { accessToken: string } } | null;
  errors?: { message?: string; extensions?: { code?: string } }[];
}

async function askRestore(): Promise<Restored> {
  let body: RestoreAnswer;
  try {
    const res = await fetch(GRAPHQL_URL, {
      method: "POST",
      credentials: "include",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ query: print(RESTORE) }),
    });
    body = await res.json(); // a proxy's 502 page is not JSON: unreachable below
  } catch {
    markOffline();
    return "unreachable";
  }
  markOnline();
  const token = body.data?.restoreAccessToken?.accessToken ?? null;
  if (token) {
    setAccessToken(token);
    return "in";
  }
  const error = body.errors?.[0];
  if (error?.extensions?.code !== "UNAUTHENTICATED") {
    // Any other failure (INTERNAL_SERVER_ERROR in a database outage, RATE_LIMITED…) is not a
    // logout: retried like an outage.
    markOffline();
    return "unreachable";
  }
  // The API's only way of saying "the browser sent no cookie": its message (no separate code).
  const noCookie = !!error.message?.includes("리프레시 토큰이 없습니다");
  const hadLogin = sessionStorage.getItem(SIGNED_IN_FLAG) === "1";
  setAccessToken(null);
  return noCookie && hadLogin && crossOrigin() ? "no-cookie" : "out";
}

/** One refresh at a time: refresh tokens rotate, and presenting a rotated one revokes the login. */
export function restoreSession(): Promise<Restored> {
  restoring ??= askRestore().finally(() => {
    restoring = null;
  });
  return restoring;
}

const auth = new SetContextLink((prev) =>
  accessToken ? { headers: { ...prev.headers, Authorization: `Bearer ${accessToken}` } } : {},
);

// An expired access token: renew it once through the cookie, then retry the operation. An API
// that does not answer the renewal is a network error (offline), not a logout.
const renew = new ErrorLink(({ error, operation, forward }) => {
  const expired =
    CombinedGraphQLErrors.is(error) && error.errors.some((e) => e.extensions?.code === "UNAUTHENTICATED");
  if (!expired || !accessToken || operation.getContext().retried) return;
  return from(restoreSession()).pipe(
    mergeMap((state) => {
      if (state === "unreachable") throw new TypeError("Failed to fetch");
      if (state !== "in") throw error;
      operation.setContext({ retried: true });
      return forward(operation);
    }),
  );
});

// Every answer proves the API reachable; a request without one marks the app offline.
const watch = new ApolloLink((operation, forward) =>
  forward(operation).pipe(
    tap({
      next: () => markOnline(),
      error: (error: unknown) => {
        if (unreachable(error)) markOffline();
      },
    }),
  ),
);

export const client = new ApolloClient({
  link: ApolloLink.from([
    renew,
    auth,
    watch,
    ApolloLink.split(hasFiles, uploadLink(GRAPHQL_URL), new HttpLink({ uri: GRAPHQL_URL, credentials: "include" })),
  ]),
  cache: new InMemoryCache(),
});

/** Is the API back? A tiny query; an answer marks the app online. */
export async function probe(): Promise<boolean> {
  try {
    const res = await fetch(GRAPHQL_URL, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ query: "{ __typename }" }),
    });
    await res.json();
  } catch {
    markOffline();
    return false;
  }
  markOnline();
  return true;
}
