/**
 * Course broadcasts are stored, so they reach students who were not connected when one
 * was sent: every connection gets the recent ones of the user's courses (the browser
 * shows each once and remembers what was dismissed).
 */
import type { CourseBroadcast } from "../../protocol/browser-contract";
import type { Database } from "../database/client";

/** Older messages are history, not news: a student opening the lab the next day is not shown them. */
export const RECENT_BROADCAST_MS = 2 * 60 * 60_000;
/** Per course, the newest this many (the panel shows three). */
const RECENT_BROADCAST_COUNT = 3;

type StoredBroadcast = { id: string; courseId: string; fromName: string; message: string; createdAt: Date };

const asMessage = (stored: StoredBroadcast): CourseBroadcast => ({
  id: stored.id,
  courseId: stored.courseId,
  from: stored.fromName,
  message: stored.message,
  at: stored.createdAt.toISOString(),
});

export async function storeBroadcast(db: Database, input: { courseId: string; authorId: string; fromName: string; message: string }): Promise<CourseBroadcast> {
  return asMessage(await db.broadcast.create({ data: input }));
}

/** The recent broadcasts of these courses, oldest first. */
export async function recentBroadcasts(db: Database, courseIds: string[], now = new Date()): Promise<CourseBroadcast[]> {
  if (courseIds.length === 0) return [];
  const since = new Date(now.getTime() - RECENT_BROADCAST_MS);
  const perCourse = await Promise.all(
    courseIds.map((courseId) =>
      db.broadcast.findMany({
        where: { courseId, createdAt: { gte: since } },
        orderBy: { createdAt: "desc" },
        take: RECENT_BROADCAST_COUNT,
      }),
    ),
  );
  return perCourse
    .flat()
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
    .map(asMessage);
}
