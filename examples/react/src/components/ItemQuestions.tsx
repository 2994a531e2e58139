import { type FormEvent, useRef, useState } from "react";
import { useMutation, useQuery } from "@apollo/client/react";
import { useNotify } from "../notice";
import { ASK, QUESTIONS } from "../operations";
import { Listed } from "./Listed";
import { NoticeLine } from "./NoticeLine";
import { QuestionItem } from "./QuestionItem";

/** The item's questions: anyone logged in asks; the seller answers under each question. */
export function ItemQuestions({ itemId, isSeller }: { itemId: string; isSeller: boolean }) {
  const notify = useNotify();
  const questions = useQuery(QUESTIONS, { variables: { itemId }, fetchPolicy: "cache-and-network" });
  const [ask] = useMutation(ASK);
  const [contents, setContents] = useState("");
  const [busy, setBusy] = useState(false);
  const inFlight = useRef(false);
  const list = questions.data?.fetchUseditemQuestions ?? [];

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (inFlight.current) return;
    if (!contents.trim()) {
      notify.show({ kind: "error", text: "질문 내용을 입력해 주세요." }, "questions");
      return;
    }
    inFlight.current = true;
    setBusy(true);
    try {
      await ask({ variables: { itemId, contents: contents.trim() } });
      setContents("");
      notify.show({ kind: "success", text: "질문을 등록했습니다." }, "questions");
      await questions.refetch();
    } catch (error) {
      notify.fail(error, "createUseditemQuestion", "questions");
    } finally {
      inFlight.current = false;
      setBusy(false);
    }
  }

  return (
    <section id="questions" className="card">
      <h2>문의</h2>
      <Listed loading={questions.loading} error={questions.error} count={list.length} failed="문의를 불러오지 못했습니다."
        empty={<p id="questions-empty" className="muted">아직 문의가 없습니다.</p>}>
        <ul id="question-list" className="questions">
          {list.map((q) => (
            <QuestionItem key={q._id} question={q} canAnswer={isSeller} />
          ))}
        </ul>
      </Listed>
      {isSeller ? (
        <NoticeLine place="questions" />
      ) : (
        <form id="ask" className="stack" onSubmit={(e) => void onSubmit(e)}>
          <label>
            질문하기
            <textarea name="question" rows={2} maxLength={1000} placeholder="판매자에게 궁금한 점을 물어보세요." value={contents}
              onChange={(e) => setContents(e.target.value)} />
          </label>
          <NoticeLine place="questions" />
          <button type="submit" disabled={busy}>질문 등록</button>
        </form>
      )}
    </section>
  );
}
