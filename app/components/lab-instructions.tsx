/**
 * Lab text as the instructor wrote it. Rendered as plain text (React escapes it), so
 * nothing an author writes can run in a student's page; `code` spans are styled.
 */
type Step = { id: string; position: number; title: string; body: string; hint: string | null };

function InlineText({ text }: { text: string }) {
  const parts = text.split(/(`[^`]+`)/g);
  return <>{parts.map((part, index) => part.startsWith("`") && part.endsWith("`") && part.length > 1
    ? <code key={index}>{part.slice(1, -1)}</code>
    : <span key={index}>{part}</span>)}</>;
}

function Paragraphs({ text }: { text: string }) {
  return <>{text.split(/\n{2,}/).map((block, index) => {
    const heading = /^(#{1,3})\s+(.*)$/.exec(block.trim());
    if (heading) return <h2 key={index}><InlineText text={heading[2]!} /></h2>;
    return <p key={index}><InlineText text={block.replace(/\n/g, " ")} /></p>;
  })}</>;
}

export function LabInstructions({ instructions, steps }: { instructions: string; steps: Step[] }) {
  return (
    <div className="instructions">
      <Paragraphs text={instructions} />
      <ol className="steps">
        {steps.map((step) => (
          <li key={step.id} className="step">
            <h3>{step.title}</h3>
            <Paragraphs text={step.body} />
            {step.hint && <details><summary>Hint</summary><p><InlineText text={step.hint} /></p></details>}
          </li>
        ))}
      </ol>
    </div>
  );
}
