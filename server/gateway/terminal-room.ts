/**
 * The course rooms a socket is in: on connection it joins every course the user belongs to
 * (broadcasts reach them, presence counts them), and staff join a course's live room to
 * watch its students.
 */
import { ServerToBrowser } from "../../protocol/browser-messages";
import { BrowserRequests } from "../../protocol/browser-contract";
import { canWatchStudents, loadCourseRole } from "../auth/access";
import { recentBroadcasts } from "../live/course-broadcasts";
import { courseRoom, staffRoom } from "./rooms";
import { replyTo, type GatewayContext, type SocketScope } from "./terminal-socket";

/** Joins the user's course rooms and handles joinRoom on one socket. */
export function handleRooms({ db }: GatewayContext, scope: SocketScope) {
  const { socket, data, socketLog, parse } = scope;
  // Every course the user belongs to: broadcasts reach them, and presence counts them.
  // The recent broadcasts come first, so a student who just arrived has not missed them.
  void db.courseMember
    .findMany({ where: { userId: data.user.id }, select: { courseId: true } })
    .then(async (memberships) => {
      const courseIds = memberships.map(({ courseId }) => courseId);
      await socket.join(courseIds.map(courseRoom));
      for (const message of await recentBroadcasts(db, courseIds)) socket.emit(ServerToBrowser.broadcast, message);
    })
    .catch((error: Error) => socketLog.error({ err: error.message }, "could not join course rooms"));

  const { joinRoom } = BrowserRequests;
  socket.on(joinRoom.event, async (payload: unknown, ack?: unknown) => {
    const request = parse(joinRoom, payload, ack);
    if (!request) return;
    const reply = replyTo(joinRoom, ack);
    if (!canWatchStudents(data.user, await loadCourseRole(db, data.user, request.courseId).catch(() => null))) {
      return reply({ ok: false, code: "forbidden", error: "Only the course's instructors and assistants can open its live room." });
    }
    await socket.join(staffRoom(request.courseId));
    reply({ ok: true });
  });
}
