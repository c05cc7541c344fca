/** A fieldset of checkboxes for named codes (API scopes, webhook events), each with a line saying what it means. */
export function CodeChoices<Code extends string>({
  legend,
  codes,
  help,
  chosen,
  onChange,
}: {
  legend: string;
  codes: readonly Code[];
  help: Record<Code, string>;
  chosen: readonly Code[];
  onChange: (chosen: Code[]) => void;
}) {
  return (
    <fieldset>
      <legend>{legend}</legend>
      {codes.map((code) => (
        <label key={code} className="switch">
          <input
            type="checkbox"
            checked={chosen.includes(code)}
            onChange={(event) => onChange(event.target.checked ? [...chosen, code] : chosen.filter((held) => held !== code))}
          />
          <span>
            <code>{code}</code> <span className="muted small">{help[code]}</span>
          </span>
        </label>
      ))}
    </fieldset>
  );
}
