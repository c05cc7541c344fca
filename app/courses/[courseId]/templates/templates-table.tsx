"use client";
/** The course's environment templates (and the shared ones, read-only), each with an Edit button. */
import type { Template } from "../authoring-types";

const cpuText = (millis: number) => `${Number((millis / 1000).toFixed(2))} CPU${millis === 1000 ? "" : "s"}`;
const minutesText = (minutes: number) => (minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`);

/** Where a template's image is: ready on how many of the online workers, and coming to how many. */
export interface ImageOnWorkers {
  image: string;
  online: number;
  ready: number;
  coming: number;
}

export function TemplatesTable({
  templates,
  loading,
  onEdit,
  imagesOnWorkers = [],
}: {
  templates: Template[] | undefined;
  loading: boolean;
  onEdit: (template: Template) => void;
  imagesOnWorkers?: ImageOnWorkers[];
}) {
  const onWorkers = new Map(imagesOnWorkers.map((entry) => [entry.image, entry]));
  return (
    <div className="table-wrap">
      <table className="table" data-testid="templates-table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Image</th>
            <th>CPU</th>
            <th>Memory</th>
            <th>Processes</th>
            <th>Idle / lifetime</th>
            <th>
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {loading && (
            <tr>
              <td colSpan={7} className="empty">
                Loading templates…
              </td>
            </tr>
          )}
          {templates?.length === 0 && (
            <tr>
              <td colSpan={7} className="empty">
                No templates yet. Create one for your labs to run in.
              </td>
            </tr>
          )}
          {templates?.map((template) => (
            <tr key={template.id}>
              <td>
                <strong>{template.name}</strong>
                {template.courseId === null && <span className="badge neutral">shared</span>}
              </td>
              <td>
                <code className="tag">{template.image}</code>
                <ImageReach entry={onWorkers.get(template.image)} />
              </td>
              <td className="nowrap">{cpuText(template.cpuMillis)}</td>
              <td className="nowrap">
                {template.memoryMb} MiB <span className="muted small">({template.memoryReservationMb} reserved)</span>
              </td>
              <td>{template.pidsLimit}</td>
              <td className="nowrap">
                {minutesText(template.idleTimeoutMinutes)} / {minutesText(template.maxLifetimeMinutes)}
              </td>
              <td className="actions-cell">
                {template.courseId === null ? (
                  <span className="muted small">read-only</span>
                ) : (
                  <button type="button" className="secondary small-button" aria-label={`Edit ${template.name}`} onClick={() => onEdit(template)}>
                    Edit
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ImageReach({ entry }: { entry: ImageOnWorkers | undefined }) {
  if (!entry || entry.online === 0) return null;
  return (
    <span className="muted small nowrap" data-testid="image-on-workers">
      {" "}
      ready on {entry.ready} of {entry.online} worker{entry.online === 1 ? "" : "s"}
      {entry.coming > 0 && <>, coming to {entry.coming}</>}
    </span>
  );
}
