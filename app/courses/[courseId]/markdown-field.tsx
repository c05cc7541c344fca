"use client";
/** A Markdown textarea with Write / Preview tabs; the preview is the same renderer students see. */
import { useId, useState, type ReactNode } from "react";
import { MarkdownPreview } from "./markdown-preview";

export function MarkdownField({
  label,
  value,
  onChange,
  rows = 8,
  error,
  hint,
  placeholder,
  maxLength,
  headingOffset,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  rows?: number;
  error?: string;
  hint?: ReactNode;
  placeholder?: string;
  maxLength?: number;
  /** As on the student's page: 1 for the instructions, 3 for a step's text. */
  headingOffset?: number;
}) {
  const id = useId();
  const [tab, setTab] = useState<"write" | "preview">("write");
  const tabId = (which: string) => `${id}-${which}`;
  return (
    <div className="field md-field">
      <div className="md-head">
        <label htmlFor={tabId("input")} className="field-label md-label">
          {label}
        </label>
        <div className="md-tabs" role="tablist">
          {(["write", "preview"] as const).map((which) => (
            <button
              key={which}
              type="button"
              role="tab"
              id={tabId(`tab-${which}`)}
              aria-selected={tab === which}
              aria-controls={tabId(`panel-${which}`)}
              className={tab === which ? "active" : ""}
              onClick={() => setTab(which)}
            >
              {which === "write" ? "Write" : "Preview"}
            </button>
          ))}
        </div>
      </div>
      <div role="tabpanel" id={tabId("panel-write")} aria-labelledby={tabId("tab-write")} hidden={tab !== "write"}>
        <textarea
          id={tabId("input")}
          rows={rows}
          value={value}
          onChange={(e) => onChange(e.target.value)}
          placeholder={placeholder}
          maxLength={maxLength}
          aria-invalid={Boolean(error)}
          className="md-input"
          spellCheck
        />
      </div>
      <div
        role="tabpanel"
        id={tabId("panel-preview")}
        aria-labelledby={tabId("tab-preview")}
        hidden={tab !== "preview"}
        className="md-preview"
        data-testid="markdown-preview"
      >
        {tab === "preview" &&
          (value.trim() ? <MarkdownPreview text={value} headingOffset={headingOffset} /> : <p className="muted small">Nothing to preview yet.</p>)}
      </div>
      {error ? <span className="field-error">{error}</span> : hint ? <span className="field-hint">{hint}</span> : null}
    </div>
  );
}
