import { createContext, useContext } from "react";
import { describe, INFO_CODES } from "./errors";

export interface Notice {
  kind: "info" | "success" | "warn" | "error";
  text: string;
  code?: string;
}

export interface Notify {
  show(notice: Notice | null): void;
  /** An error, shown from its extensions.code. */
  fail(error: unknown, operation?: string): void;
}

export const NoticeContext = createContext<Notify>({ show: () => {}, fail: () => {} });
export const useNotify = () => useContext(NoticeContext);

export function noticeOf(error: unknown, operation?: string): Notice {
  const { code, message } = describe(error, operation);
  return { kind: INFO_CODES.has(code) ? "info" : "error", text: message, code };
}
