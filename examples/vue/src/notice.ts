import { ref } from "vue";
import { describe, INFO_CODES } from "./errors";

export interface Notice {
  kind: "info" | "success" | "warn" | "error";
  text: string;
  code?: string;
  /** The API's extensions.field: the input the message is about. */
  field?: string;
  link?: { href: string; text: string };
}

/** Where a message is shown: next to the action it is about (the charge box, a cancel form…), so
 * it is never above the fold. "top" is for what belongs to no box (logout, a lost session). */
export type Place = string;

/** The one message of the app (#message), rendered by the NoticeLine of its place. */
export const notice = ref<(Notice & { place: Place }) | null>(null);

export function show(value: Notice | null, place: Place = "top"): void {
  notice.value = value && { ...value, place };
}

export function noticeOf(error: unknown, operation?: string): Notice {
  const { code, message, field } = describe(error, operation);
  return { kind: INFO_CODES.has(code) ? "info" : "error", text: message, code, field };
}

/** An error, shown from its extensions.code at its place. */
export function fail(error: unknown, operation?: string, place: Place = "top"): Notice {
  const value = noticeOf(error, operation);
  show(value, place);
  return value;
}
