/** The reason an input was refused, right under it (the input points here with aria-describedby). */
export function FieldError({ id, text }: { id: string; text?: string }) {
  if (!text) return null;
  return (
    <span id={id} className="field-error" role="alert">
      {text}
    </span>
  );
}
