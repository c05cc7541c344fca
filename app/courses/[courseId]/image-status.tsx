const STATUS_TEXT = { BUILDING: "Building", TRANSFERRING: "Copying", READY: "Ready", FAILED: "Failed" } as const;

/** `testId`: the image's own badge is "image-status"; its per-worker badges say so in theirs. */
export function ImageStatusBadge({ status, testId = "image-status" }: { status: keyof typeof STATUS_TEXT; testId?: string }) {
  return (
    <span className={`image-status ${status.toLowerCase()}`} data-testid={testId} data-status={status}>
      {(status === "BUILDING" || status === "TRANSFERRING") && <span className="spinner dark" aria-hidden="true" />}
      {STATUS_TEXT[status]}
    </span>
  );
}
