"use client";
/** The lab editor's footer: where saving stands (an error, a notice, unsaved changes) and the save and publish buttons. */

export function SaveBar({
  isNew,
  published,
  dirty,
  busy,
  saving,
  error,
  invalid,
  notice,
  onTogglePublished,
}: {
  isNew: boolean;
  published: boolean;
  dirty: boolean;
  busy: boolean;
  saving: boolean;
  error: string | null;
  /** The last save attempt stopped at fields the author has to fix. */
  invalid: boolean;
  notice: string | null;
  onTogglePublished: () => void;
}) {
  return (
    <div className="save-bar" role="region" aria-label="Save">
      <div className="save-state" aria-live="polite">
        {error ? (
          <span className="error" role="alert">
            {error}
          </span>
        ) : invalid ? (
          <span className="error" role="alert">
            Fix the fields marked in red, then save again.
          </span>
        ) : notice ? (
          <span className="saved" role="status">
            {notice}
          </span>
        ) : dirty ? (
          <span className="unsaved">Unsaved changes</span>
        ) : !isNew ? (
          <span className="muted small">All changes saved</span>
        ) : null}
      </div>
      <div className="save-actions">
        <button
          type="button"
          className="secondary"
          onClick={onTogglePublished}
          disabled={busy}
          title={published ? "Students stop seeing this lab" : "Students in the course can open this lab"}
        >
          {isNew || dirty ? (published ? "Save and unpublish" : "Save and publish") : published ? "Unpublish" : "Publish"}
        </button>
        <button type="submit" className="primary" disabled={busy}>
          {saving ? "Saving…" : isNew ? "Create lab" : "Save lab"}
        </button>
      </div>
    </div>
  );
}
