"use client";
/** One step of the lab editor: title, Markdown text, hint, check script and its timeout, with buttons to move or remove it. */
import { Controller, useFormContext, useWatch } from "react-hook-form";
import { Bounds } from "../../../../common/input-bounds";
import { Field } from "../../../components/field";
import { MarkdownField } from "../markdown-field";
import type { LabDraft } from "./lab-draft";

export function StepEditor({
  index,
  count,
  stepKey,
  onMove,
  onRemove,
}: {
  index: number;
  count: number;
  /** Stable across moves: the ids of the step's buttons and title (focus follows a moved step). */
  stepKey: string;
  onMove: (by: -1 | 1) => void;
  onRemove: () => void;
}) {
  const {
    register,
    control,
    formState: { errors },
  } = useFormContext<LabDraft>();
  const title = useWatch({ control, name: `steps.${index}.title` });
  const stepErrors = errors.steps?.[index];
  const number = index + 1;
  const legendId = `step-legend-${stepKey}`;
  return (
    <fieldset className="card step-card" aria-labelledby={legendId} data-testid={`step-editor-${index}`}>
      <div className="step-card-head">
        <span className="step-number" aria-hidden="true">
          {number}
        </span>
        <h3 id={legendId} className="step-legend">
          Step {number}
        </h3>
        <span className="step-heading-title">{title || <span className="muted">Untitled</span>}</span>
        <span className="step-tools">
          <button
            type="button"
            id={`move-up-${stepKey}`}
            className="icon-button"
            onClick={() => onMove(-1)}
            disabled={index === 0}
            aria-label={`Move step ${number} up`}
            title="Move up"
          >
            ↑
          </button>
          <button
            type="button"
            id={`move-down-${stepKey}`}
            className="icon-button"
            onClick={() => onMove(1)}
            disabled={index === count - 1}
            aria-label={`Move step ${number} down`}
            title="Move down"
          >
            ↓
          </button>
          <button type="button" className="icon-button danger-icon" onClick={onRemove} aria-label={`Remove step ${number}`} title="Remove step">
            ✕
          </button>
        </span>
      </div>
      <div className="form">
        <Field label="Step title" error={stepErrors?.title?.message}>
          <input id={`step-title-${stepKey}`} {...register(`steps.${index}.title`)} maxLength={Bounds.stepTitle.max} placeholder="e.g. Make a file" />
        </Field>
        <Controller
          control={control}
          name={`steps.${index}.body`}
          render={({ field }) => (
            <MarkdownField
              label="Step text"
              headingOffset={3}
              value={field.value}
              onChange={field.onChange}
              rows={5}
              error={stepErrors?.body?.message}
              placeholder={"Create `one.txt` in your workspace:\n\n```\ntouch ~/workspace/one.txt\n```"}
            />
          )}
        />
        <Field
          label={
            <>
              Hint <span className="optional">(optional)</span>
            </>
          }
          error={stepErrors?.hint?.message}
          hint="Shown folded; students open it when stuck."
        >
          <input {...register(`steps.${index}.hint`)} maxLength={Bounds.stepHint.max} />
        </Field>
        <div className="check-row">
          <Field
            label={
              <>
                Check script <span className="optional">(optional)</span>
              </>
            }
            error={stepErrors?.checkScript?.message}
            hint="Runs in the student’s container, as the student, when they press Check. Exit 0 passes; what it prints is shown to them."
          >
            <textarea
              {...register(`steps.${index}.checkScript`)}
              rows={4}
              className="code-input"
              spellCheck={false}
              placeholder={'test -f ~/workspace/one.txt || { echo "one.txt is missing"; exit 1; }'}
            />
          </Field>
          <Field label="Timeout (seconds)" error={stepErrors?.checkTimeoutSeconds?.message}>
            <input
              type="number"
              min={Bounds.checkTimeoutSeconds.min}
              max={Bounds.checkTimeoutSeconds.max}
              step={1}
              inputMode="numeric"
              {...register(`steps.${index}.checkTimeoutSeconds`, { valueAsNumber: true })}
            />
          </Field>
        </div>
      </div>
    </fieldset>
  );
}
