const STATUS_TEXT = { BUILDING: "Building", TRANSFERRING: "Copying", READY: "Ready", FAILED: "Failed" } as const;

export function ImageStatusBadge({ status }: { status: keyof typeof STATUS_TEXT }) {
  return (
    <span className={`image-status ${status.toLowerCase()}`} data-testid="image-status" data-status={status}>
      {(status === "BUILDING" || status === "TRANSFERRING") && <span className="spinner dark" aria-hidden="true" />}
      {STATUS_TEXT[status]}
    </span>
  );
}
