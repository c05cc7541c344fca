/**
 * The live room's real-time side, on the /terminal namespace's rooms: staff with the room
 * open are nudged to refetch, broadcasts reach every connected member, and presence is
 * whoever has a connection in the course room. With the Redis adapter all three span
 * server replicas (fetchSockets asks every replica).
 */
import type { Namespace } from "socket.io";
import { ServerToBrowser } from "../../protocol/browser-messages";
import { type BulkActionProgress, type CourseBroadcast } from "../../protocol/browser-contract";
import { courseRoom, staffRoom } from "../gateway/rooms";

export interface LiveRoomChannel {
  /** Something in the course's room changed (hands, environments): staff refetch. */
  changed(courseId: string): void;
  broadcast(message: CourseBroadcast): void;
  /** How an action on everyone is going, to staff with the room open. */
  bulkProgress(progress: BulkActionProgress): void;
  /** Users with a live connection in the course, on any replica. */
  onlineUsers(courseId: string): Promise<Set<string>>;
}

/** Replicas that do not answer within this long are left out of presence. */
const PRESENCE_TIMEOUT_MS = 2000;

export function liveRoomChannel(terminals: Namespace): LiveRoomChannel {
  return {
    changed: (courseId) => {
      terminals.to(staffRoom(courseId)).emit(ServerToBrowser.roomChanged, { courseId });
    },
    bulkProgress: (progress) => {
      terminals.to(staffRoom(progress.courseId)).emit(ServerToBrowser.bulkProgress, progress);
    },
    broadcast: (message) => {
      terminals.to(courseRoom(message.courseId)).emit(ServerToBrowser.broadcast, message);
    },
    onlineUsers: async (courseId) => {
      const sockets = await terminals
        .in(courseRoom(courseId))
        .timeout(PRESENCE_TIMEOUT_MS)
        .fetchSockets()
        .catch(() => terminals.local.in(courseRoom(courseId)).fetchSockets());
      return new Set(sockets.map((socket) => (socket.data as { user?: { id: string } }).user?.id).filter((id): id is string => Boolean(id)));
    },
  };
}
