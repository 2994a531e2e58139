import { type FormEvent, useRef, useState } from "react";
import { useMutation, useQuery } from "@apollo/client/react";
import { when } from "../errors";
import { useNotify } from "../notice";
import { ANSWER, ANSWERS } from "../operations";
import { NoticeLine } from "./NoticeLine";

interface Question {
  _id: string;
  contents: string;
  createdAt: string;
  user: { name: string };
}

/** A question, its answers, and for the seller an answer box. */
export function QuestionItem({ question, canAnswer }: { question: Question; canAnswer: boolean }) {
  const notify = useNotify();
  const answers = useQuery(ANSWERS, { variables: { questionId: question._id } });
  const [answer] = useMutation(ANSWER);
  const [contents, setContents] = useState("");
  const [busy, setBusy] = useState(false);
  const inFlight = useRef(false);
  const list = answers.data?.fetchUseditemQuestionAnswers ?? [];
  const place = `answer:${question._id}`;

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (inFlight.current) return;
    if (!contents.trim()) {
      notify.show({ kind: "error", text: "답변 내용을 입력해 주세요." }, place);
      return;
    }
    inFlight.current = true;
    setBusy(true);
    try {
      await answer({ variables: { questionId: question._id, contents: contents.trim() } });
      setContents("");
      notify.show(null);
      await answers.refetch();
    } catch (error) {
      notify.fail(error, "createUseditemQuestionAnswer", place);
    } finally {
      inFlight.current = false;
      setBusy(false);
    }
  }

  return (
    <li className="question" data-id={question._id}>
      <p className="q">
        <strong>Q.</strong> <span className="question-text">{question.contents}</span>
        <small className="muted"> · {question.user.name} · {when(question.createdAt)}</small>
      </p>
      {list.length > 0 && (
        <ul className="answers">
          {list.map((a) => (
            <li key={a._id} className="answer">
              <strong>A.</strong> <span className="answer-text">{a.contents}</span>
              <small className="muted"> · {a.user.name} · {when(a.createdAt)}</small>
            </li>
          ))}
        </ul>
      )}
      {canAnswer && (
        <form className="answer-form stack" onSubmit={(e) => void onSubmit(e)}>
          <label>
            답변
            <textarea name="answer" rows={2} maxLength={1000} value={contents} onChange={(e) => setContents(e.target.value)} />
          </label>
          <NoticeLine place={place} />
          <button type="submit" className="small" disabled={busy}>답변 등록</button>
        </form>
      )}
    </li>
  );
}
