// Apollo Client (3.x, what @vue/apollo-composable supports): the access token lives in memory
// only; the httpOnly refresh cookie gets a new one (restoreAccessToken) after a reload, after the
// mobile redirect, and when it expires.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, Observable } from "@apollo/client/core";
import { setContext } from "@apollo/client/link/context";
import { onError } from "@apollo/client/link/error";
import { print } from "graphql";
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

const auth = setContext((_, { headers }) =>
  accessToken ? { headers: { ...headers, Authorization: `Bearer ${accessToken}` } } : {},
);

// An expired access token: renew it once through the cookie, then retry the operation.
const renew = onError(({ graphQLErrors, operation, forward }) => {
  const expired = graphQLErrors?.some((e) => e.extensions?.code === "UNAUTHENTICATED");
  if (!expired || !accessToken || operation.getContext().retried) return;
  return new Observable((observer) => {
    restoreSession().then((ok) => {
      if (!ok) {
        observer.error(new Error("UNAUTHENTICATED"));
        return;
      }
      operation.setContext({ retried: true });
      forward(operation).subscribe(observer);
    });
  });
});

export const client = new ApolloClient({
  link: ApolloLink.from([renew, auth, new HttpLink({ uri: `${API_URL}/graphql`, credentials: "include" })]),
  cache: new InMemoryCache(),
});
