import { createContext, useContext } from "react";
import { describe, INFO_CODES } from "./errors";

export interface Notice {
  kind: "info" | "success" | "warn" | "error";
  text: string;
  code?: string;
  /** The API's extensions.field: the input the message is about. */
  field?: string;
  link?: { href: string; text: string };
}

/** Where the app's one message (#message) is shown: next to the action it answers (the charge
 * box, a cancel form…), so that it is never above the fold. "top" is for what belongs to no box
 * (logout, a lost session). */
export type Place = string;
export type Placed = Notice & { place: Place };

export interface Notify {
  show(notice: Notice | null, place?: Place): void;
  /** An error, shown from its extensions.code; returned for its field. */
  fail(error: unknown, operation?: string, place?: Place): Notice;
}

export const NoticeContext = createContext<Notify>({ show: () => {}, fail: (e, op) => noticeOf(e, op) });
export const useNotify = () => useContext(NoticeContext);
/** The message being shown, read by the NoticeLine of each place (a context of its own, so that
 * components that only send messages do not re-render on every one). */
export const CurrentNotice = createContext<Placed | null>(null);

export function noticeOf(error: unknown, operation?: string): Notice {
  const { code, message, field } = describe(error, operation);
  return { kind: INFO_CODES.has(code) ? "info" : "error", text: message, code, field };
}
