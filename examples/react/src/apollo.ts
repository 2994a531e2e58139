// Apollo Client: the access token lives in memory only; the httpOnly refresh cookie gets a new
// one (restoreAccessToken) after a reload, after the mobile redirect, and when it expires.
import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache } from "@apollo/client";
import { SetContextLink } from "@apollo/client/link/context";
import { ErrorLink } from "@apollo/client/link/error";
import { print } from "graphql";
import { from, mergeMap } from "rxjs";
import { RESTORE } from "./operations";

/** Empty (the default): same origin, Vite proxies /graphql, /payments/complete and /sandbox to the
 * API, so the refresh cookie is first-party. Set VITE_POINTCHARGE_API_URL only for a cross-site
 * deployment (README: CORS origins, SameSite=None; Secure). */
export const API_URL: string = (import.meta.env.VITE_POINTCHARGE_API_URL ?? "").replace(/\/$/, "");

let accessToken: string | null = null;
let restoring: Promise<boolean> | null = null;

export function setAccessToken(token: string | null): void {
  accessToken = token;
}

/** One refresh at a time: refresh tokens rotate, and presenting a rotated one revokes the login. */
export function restoreSession(): Promise<boolean> {
  restoring ??= fetch(`${API_URL}/graphql`, {
    method: "POST",
    credentials: "include",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ query: print(RESTORE) }),
  })
    .then((res) => res.json())
    .then((body: { data?: { restoreAccessToken?: { accessToken: string } } }) => {
      accessToken = body.data?.restoreAccessToken?.accessToken ?? null;
      return accessToken !== null;
    })
    .catch(() => {
      accessToken = null;
      return false;
    })
    .finally(() => {
      restoring = null;
    });
  return restoring;
}

const auth = new SetContextLink((prev) =>
  accessToken ? { headers: { ...prev.headers, Authorization: `Bearer ${accessToken}` } } : {},
);

// An expired access token: renew it once through the cookie, then retry the operation.
const renew = new ErrorLink(({ error, operation, forward }) => {
  const expired =
    CombinedGraphQLErrors.is(error) && error.errors.some((e) => e.extensions?.code === "UNAUTHENTICATED");
  if (!expired || !accessToken || operation.getContext().retried) return;
  return from(restoreSession()).pipe(
    mergeMap((ok) => {
      if (!ok) throw error;
      operation.setContext({ retried: true });
      return forward(operation);
    }),
  );
});

export const client = new ApolloClient({
  link: ApolloLink.from([renew, auth, new HttpLink({ uri: `${API_URL}/graphql`, credentials: "include" })]),
  cache: new InMemoryCache(),
});
