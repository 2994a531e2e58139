import { useContext, useEffect, useRef } from "react";
import { CurrentNotice, type Place } from "../notice";

/** The app's message (#message) when it belongs to this place, scrolled into view so that the
 * answer to an action is seen where the action was taken. People read words; the code stays for
 * developers behind 개발자 정보. */
export function NoticeLine({ place }: { place: Place }) {
  const current = useContext(CurrentNotice);
  const here = current?.place === place ? current : null;
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (here) el.current?.scrollIntoView?.({ block: "nearest" });
  }, [here]);
  if (!here) return null;
  return (
    <div id="message" ref={el} className={`message ${here.kind}`} role={here.kind === "error" ? "alert" : "status"} data-code={here.code}>
      {here.text}
      {here.link && (
        <>
          {" "}
          {here.link.href ? (
            <a href={here.link.href} target="_blank" rel="noopener">{here.link.text}</a>
          ) : (
            <cite>({here.link.text})</cite>
          )}
        </>
      )}
      {here.code && here.kind !== "success" && (
        <details className="dev-info">
          <summary>개발자 정보</summary>
          <code>{here.code}</code>
        </details>
      )}
    </div>
  );
}
