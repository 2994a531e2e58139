// Files go up as a GraphQL multipart request (https://github.com/jaydenseric/graphql-multipart-request-spec):
// an operation with a File among its variables is sent as `operations`, `map` and one part per
// file, everything else by the HttpLink. Apollo-Require-Preflight: a multipart POST is what any
// site's <form> can send; the header makes browsers ask first (CORS), as Apollo servers expect.
import { ApolloLink } from "@apollo/client";
import { ServerError } from "@apollo/client/errors";
import { print } from "graphql";
import { Observable } from "rxjs";

const TOO_LARGE = { errors: [{ message: "파일이 너무 큽니다.", extensions: { code: "FILE_TOO_LARGE" } }] };

export const hasFiles = (operation: ApolloLink.Operation): boolean =>
  Object.values(operation.variables ?? {}).some((v) => v instanceof Blob);

export function uploadLink(uri: string): ApolloLink {
  return new ApolloLink(
    (operation) =>
      new Observable<ApolloLink.Result>((observer) => {
        const controller = new AbortController();
        const variables: Record<string, unknown> = { ...operation.variables };
        const map: Record<string, string[]> = {};
        const files: Blob[] = [];
        for (const [name, value] of Object.entries(variables)) {
          if (!(value instanceof Blob)) continue;
          map[String(files.length)] = [`variables.${name}`];
          files.push(value);
          variables[name] = null; // the spec: null in `operations`, the file in its own part
        }
        const form = new FormData();
        form.append("operations", JSON.stringify({ query: print(operation.query), variables, operationName: operation.operationName }));
        form.append("map", JSON.stringify(map));
        files.forEach((file, i) => form.append(String(i), file));
        const { headers = {} } = operation.getContext() as { headers?: Record<string, string> };
        fetch(uri, {
          method: "POST",
          credentials: "include",
          headers: { ...headers, "Apollo-Require-Preflight": "true" }, // no Content-Type: the browser adds the boundary
          body: form,
          signal: controller.signal,
        })
          .then(async (response) => {
            const bodyText = await response.text();
            let result: unknown = null;
            try {
              result = JSON.parse(bodyText);
            } catch {
              // not a GraphQL answer (a proxy's error page): below
            }
            // A proxy's own size limit answers before the API does, and not in GraphQL.
            if (result === null && response.status === 413) result = TOO_LARGE;
            if (!result || typeof result !== "object" || !("data" in result || "errors" in result)) {
              throw new ServerError(`Response not successful: Received status code ${response.status}`, { response, bodyText });
            }
            observer.next(result as ApolloLink.Result);
            observer.complete();
          })
          .catch((error: unknown) => observer.error(error));
        return () => controller.abort();
      }),
  );
}
