/**
 * A problem the person should read now (a failed load, a refused save): announced by screen
 * readers as it appears, and nothing at all while there is none.
 */
export function ErrorAlert({ text }: { text: string | null | undefined }) {
  if (!text) return null;
  return (
    <p className="error" role="alert">
      {text}
    </p>
  );
}
