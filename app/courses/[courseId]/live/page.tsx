"use client";
/**
 * Course staff: the live room of a course or workshop. Every student as a card, the queue
 * of raised hands, and actions on one student or everyone. Pushed changes (socket) make
 * it prompt; a 5-second poll keeps load and activity figures moving regardless.
 */
import { useParams } from "next/navigation";
import { useCallback, useId, useMemo, useState } from "react";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../../../trpc";
import { formErrorText } from "../../../components/errors";
import { Crumbs, StaffGate, type StaffCourse } from "../staff-gate";
import { formatWhen } from "../authoring-utils";
import { useNow } from "./live-format";
import { useRoomNudges, type NudgeState } from "./use-room-nudges";
import { BroadcastForm } from "./broadcast-form";
import { RoomActions } from "./room-actions";
import { HandQueue } from "./hand-queue";
import { AdmissionQueuePanel } from "./admission-queue-panel";
import { StudentCard } from "./student-card";
import { WatchDialog } from "./watch-dialog";
import { ConfirmDialog } from "./confirm-dialog";
import { PreparePanel } from "./prepare-panel";
import type { Confirmation, Student, Watched } from "./live-types";
import type { BulkActionProgress } from "../../../../protocol/browser-contract";
// The watch dialog's terminal uses the lab page's terminal styles.

const POLL_MS = 5000;

export default function LiveRoomPage() {
  const { courseId } = useParams<{ courseId: string }>();
  return (
    <StaffGate courseId={courseId} what="the live room" wide>
      {(course) => <LiveRoom course={course} />}
    </StaffGate>
  );
}

/** Raised hands first (they need someone), then by name, so cards do not jump about. */
function byHandThenName(a: Student, b: Student) {
  if (Boolean(a.hand) !== Boolean(b.hand)) return a.hand ? -1 : 1;
  return a.name.localeCompare(b.name, undefined, { sensitivity: "base" });
}

/** The later of two reports on the course's actions on everyone (pushed vs. fetched). */
function newer(a: BulkActionProgress | null, b: BulkActionProgress | null) {
  if (!a || !b) return a ?? b;
  if (a.id !== b.id) return Date.parse(a.startedAt) >= Date.parse(b.startedAt) ? a : b;
  if (a.finished !== b.finished) return a.finished ? a : b;
  return Date.parse(a.updatedAt) >= Date.parse(b.updatedAt) ? a : b;
}

function LiveNote({ nudges, failing }: { nudges: NudgeState; failing: boolean }) {
  if (failing)
    return (
      <>
        <span className="dot warn" aria-hidden="true" />
        Reconnecting… showing the last figures.
      </>
    );
  if (nudges.kind === "live")
    return (
      <>
        <span className="dot live" aria-hidden="true" />
        Live
      </>
    );
  if (nudges.kind === "connecting")
    return (
      <>
        <span className="dot idle" aria-hidden="true" />
        Connecting…
      </>
    );
  return (
    <>
      <span className="dot warn" aria-hidden="true" />
      {nudges.reason ? `${nudges.reason} ` : "Live updates paused. "}Refreshing every {POLL_MS / 1000} seconds.
    </>
  );
}

function LiveRoom({ course }: { course: StaffCourse }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const labSelectId = useId();
  const [labId, setLabId] = useState("");
  const [search, setSearch] = useState("");
  const [watched, setWatched] = useState<Watched | null>(null);
  const [confirmation, setConfirmation] = useState<Confirmation | null>(null);
  const now = useNow();

  const overview = useQuery(
    trpc.live.overview.queryOptions({ courseId: course.id, ...(labId ? { labId } : {}) }, { refetchInterval: POLL_MS, placeholderData: keepPreviousData }),
  );
  const refresh = useCallback(() => {
    void queryClient.invalidateQueries(trpc.live.overview.pathFilter());
  }, [queryClient, trpc]);
  // Progress pushed as it happens; the overview's copy covers a reload or a lost socket.
  const [pushedBulk, setPushedBulk] = useState<BulkActionProgress | null>(null);
  const nudges = useRoomNudges(course.id, refresh, setPushedBulk);
  // Stable, so the memoised cards do not re-render for nothing.
  const watch = useCallback((next: Watched) => setWatched(next), []);
  const ask = useCallback((next: Confirmation) => setConfirmation(next), []);

  const students = useMemo(() => [...(overview.data?.students ?? [])].sort(byHandThenName), [overview.data?.students]);
  const environmentStates = useMemo(
    () => new Map(students.flatMap((student) => (student.environment ? [[student.environment.id, student.environment.state] as const] : []))),
    [students],
  );

  const crumbs = <Crumbs course={course} />;
  if (overview.error && !overview.data) {
    return (
      <>
        {crumbs}
        <p className="notice warn" role="alert">
          {formErrorText(overview.error) ?? "The live room could not be loaded."}
        </p>
      </>
    );
  }
  if (!overview.data)
    return (
      <>
        {crumbs}
        <p className="muted">
          <span className="spinner dark" aria-hidden="true" /> Opening the live room…
        </p>
      </>
    );

  const { course: room, labs, hands, queue } = overview.data;
  const bulk = newer(pushedBulk, overview.data.bulk);
  const query = search.trim().toLowerCase();
  const shown = query ? students.filter((student) => `${student.name} ${student.email ?? ""}`.toLowerCase().includes(query)) : students;
  const online = students.filter((student) => student.online).length;
  const running = students.filter((student) => student.environment?.state === "RUNNING").length;

  return (
    <div className="live-room">
      {crumbs}
      <div className="page-title title-with-actions room-title">
        <div>
          <p className="eyebrow">Live room</p>
          <h1>{room.title}</h1>
          <p className="muted small live-note" data-testid="live-status" data-state={overview.error ? "failing" : nudges.kind}>
            <LiveNote nudges={nudges} failing={Boolean(overview.error)} />
          </p>
        </div>
        <div className="header-actions">
          <label htmlFor={labSelectId} className="lab-filter-label">
            Lab
          </label>
          <select id={labSelectId} value={labId} onChange={(event) => setLabId(event.target.value)}>
            <option value="">All labs</option>
            {labs.map((lab) => (
              <option key={lab.id} value={lab.id}>
                {lab.title}
                {lab.published ? "" : " (draft)"}
              </option>
            ))}
          </select>
        </div>
      </div>

      <ul className="room-stats" aria-label="Summary">
        <li data-testid="count-students">
          <strong>{students.length}</strong> student{students.length === 1 ? "" : "s"}
        </li>
        <li data-testid="count-online">
          <strong>{online}</strong> online
        </li>
        <li data-testid="count-running">
          <strong>{running}</strong> running
        </li>
        <li data-testid="count-hands" className={hands.length > 0 ? "attention" : undefined}>
          <strong>{hands.length}</strong> hand{hands.length === 1 ? "" : "s"} raised
        </li>
      </ul>

      {room.endedAt && (
        <p className="notice warn room-ended" role="status" data-testid="workshop-ended">
          <strong>This workshop ended at {formatWhen(room.endedAt)}.</strong> Workspaces are kept; students cannot start their environments until you reopen it.
        </p>
      )}

      <section className="card room-toolbar" aria-label="Actions">
        <BroadcastForm courseId={course.id} />
        <RoomActions courseId={course.id} ended={Boolean(room.endedAt)} bulk={bulk} ask={ask} />
      </section>

      {!room.endedAt && <PreparePanel courseId={course.id} kind={room.kind} />}

      <AdmissionQueuePanel queue={queue} now={now} />
      <div className="room-body">
        {/* First in reading order: the queue is what needs someone now. */}
        <HandQueue courseId={course.id} hands={hands} now={now} environmentStates={environmentStates} onWatch={watch} />
        <section className="room-students" aria-labelledby="room-students-title">
          <div className="room-students-head">
            <h2 id="room-students-title">Students</h2>
            {students.length > 0 && (
              <input
                type="search"
                className="search room-search"
                placeholder="Find a student"
                aria-label="Find a student"
                value={search}
                onChange={(event) => setSearch(event.target.value)}
              />
            )}
            {query && (
              <span className="muted small">
                {shown.length} of {students.length}
              </span>
            )}
          </div>
          {students.length === 0 ? (
            <p className="card muted room-empty">No students in the course yet. Share the join link from the course page.</p>
          ) : shown.length === 0 ? (
            <p className="card muted room-empty">No student matches “{search.trim()}”.</p>
          ) : (
            <ul className="student-grid">
              {shown.map((student) => (
                <StudentCard key={student.userId} courseId={course.id} student={student} now={now} onWatch={watch} ask={ask} />
              ))}
            </ul>
          )}
        </section>
      </div>

      {watched && <WatchDialog key={watched.environmentId} watched={watched} onClose={() => setWatched(null)} />}
      <ConfirmDialog confirmation={confirmation} onClose={() => setConfirmation(null)} />
    </div>
  );
}
