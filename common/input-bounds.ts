/**
 * Every bound on what people type, in one place: the input schemas in forms/ (the routers'
 * inputs, which the forms check with too) and the lab folder importer enforce them, and the
 * forms use them for their `min`/`max`/`maxLength` attributes. Change a bound here and both
 * sides follow.
 * (Terminal sizes and message sizes on the socket live in protocol/.)
 */

/** Inclusive bounds of a number, or of a text's length. */
export interface Bound {
  readonly min: number;
  readonly max: number;
}

const MINUTES_PER_DAY = 24 * 60;

export const Bounds = {
  // Accounts.
  displayName: { min: 1, max: 60 },
  password: { min: 10, max: 256 },
  email: { min: 1, max: 254 },
  userSearch: { min: 0, max: 100 },

  // Courses and workshops.
  courseTitle: { min: 3, max: 120 },
  courseDescription: { min: 0, max: 2000 },
  /** Students expected at a session (its warm pools fill to it). */
  expectedSeats: { min: 1, max: 1000 },
  /** A join link's seat limit. */
  joinSeatLimit: { min: 1, max: 10_000 },

  // The live room.
  /** "Prepare for N students". */
  prepareSeats: { min: 1, max: 1000 },
  /** More time for one environment or for all of them. */
  extendMinutes: { min: 5, max: MINUTES_PER_DAY },
  broadcastMessage: { min: 1, max: 500 },
  handNote: { min: 0, max: 200 },

  // Environment templates.
  templateName: { min: 1, max: 100 },
  memoryMb: { min: 64, max: 16_384 },
  memoryReservationMb: { min: 16, max: 16_384 },
  cpuMillis: { min: 100, max: 8_000 },
  pidsLimit: { min: 32, max: 4_096 },
  diskMb: { min: 64, max: 100_000 },
  idleTimeoutMinutes: { min: 5, max: MINUTES_PER_DAY },
  maxLifetimeMinutes: { min: 15, max: 14 * MINUTES_PER_DAY },
  warmPoolSize: { min: 0, max: 50 },

  // Labs and their steps.
  labTitle: { min: 1, max: 200 },
  labSteps: { min: 0, max: 100 },
  stepTitle: { min: 1, max: 200 },
  stepHint: { min: 0, max: 2000 },
  checkTimeoutSeconds: { min: 1, max: 300 },

  // Images built from a Dockerfile.
  imageName: { min: 1, max: 80 },
} as const satisfies Record<string, Bound>;
