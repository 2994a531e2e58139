import { ref } from "vue";
import { describe, INFO_CODES } from "./errors";

export interface Notice {
  kind: "info" | "success" | "warn" | "error";
  text: string;
  code?: string;
}

/** The one message line of the app. */
export const notice = ref<Notice | null>(null);

export function show(value: Notice | null): void {
  notice.value = value;
}

export function noticeOf(error: unknown, operation?: string): Notice {
  const { code, message } = describe(error, operation);
  return { kind: INFO_CODES.has(code) ? "info" : "error", text: message, code };
}

/** An error, shown from its extensions.code. */
export function fail(error: unknown, operation?: string): void {
  notice.value = noticeOf(error, operation);
}
