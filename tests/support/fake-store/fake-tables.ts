/**
 * The server's records in memory, for the fast tier: workers, templates and environments
 * with the columns the rule modules' stores read. Rows are handed out as copies (as Prisma
 * hands out fresh objects), so a rule cannot change a record except through a store.
 */
import { randomBytes } from "node:crypto";
import type { EnvironmentState, EnvironmentTemplate, WorkerScheduling, WorkerStatus } from "../../../generated/prisma/client";

export interface FakeWorker {
  id: string;
  status: WorkerStatus;
  maxEnvironments: number;
  memoryBytes: number;
  /** The images it holds (READY), as its reports would have recorded them. */
  images: string[];
  scheduling: WorkerScheduling;
}

export type FakeTemplate = EnvironmentTemplate;

/** A lab, as far as its environments care: whether staff ended its workshop. */
export interface FakeLab {
  id: string;
  courseEndedAt: Date | null;
}

export interface FakeEnvironment {
  id: string;
  userId: string;
  labId: string;
  templateId: string;
  workerId: string | null;
  state: EnvironmentState;
  stopReason: string | null;
  containerId: string | null;
  volumeName: string | null;
  error: string | null;
  startedAt: Date | null;
  stoppedAt: Date | null;
  lastActivityAt: Date | null;
  expiresAt: Date | null;
  warnedAt: Date | null;
  startClaimedAt: Date | null;
  queuedAt: Date | null;
  queueSeenAt: Date | null;
  movingToWorkerId: string | null;
}

const GIB = 1024 * 1024 * 1024;
const newId = (what: string) => `${what}-${randomBytes(4).toString("hex")}`;

/** A copy whose dates are copies too. */
export function copyOf<T extends object>(row: T): T {
  return Object.fromEntries(Object.entries(row).map(([key, value]) => [key, value instanceof Date ? new Date(value) : value])) as T;
}

/** The fields given (one passed as undefined keeps its default, as Prisma leaves it out). */
const given = <T extends object>(fields: Partial<T>): Partial<T> =>
  Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;

export class FakeTables {
  readonly workers = new Map<string, FakeWorker>();
  readonly templates = new Map<string, FakeTemplate>();
  readonly labs = new Map<string, FakeLab>();
  readonly environments = new Map<string, FakeEnvironment>();
  /** The admission queue's pump lock (one pass at a time across replicas on these tables). */
  pumpLockHeld = false;

  /** Defaults as the schema's: ONLINE and OPEN; here 20 places and 8 GiB, holding the default image. */
  addWorker(worker: Partial<FakeWorker> = {}): FakeWorker {
    const row: FakeWorker = {
      id: newId("worker"),
      status: "ONLINE",
      maxEnvironments: 20,
      memoryBytes: 8 * GIB,
      images: ["shellroom/default:1"],
      scheduling: "OPEN",
      ...given(worker),
    };
    this.workers.set(row.id, row);
    return copyOf(row);
  }

  /** Defaults as the schema's (30 minutes idle, 64 MiB reserved, ...). */
  addTemplate(template: Partial<FakeTemplate> = {}): FakeTemplate {
    const id = newId("template");
    const row: FakeTemplate = {
      id,
      courseId: null,
      name: id,
      image: "shellroom/default:1",
      memoryMb: 512,
      memoryReservationMb: 64,
      cpuMillis: 1000,
      pidsLimit: 256,
      diskMb: 1024,
      network: "NONE",
      idleTimeoutMinutes: 30,
      maxLifetimeMinutes: 240,
      workingDir: "/home/student/workspace",
      user: "student",
      setupScript: null,
      warmPoolSize: 0,
      services: [],
      previewPorts: [],
      createdAt: new Date(),
      ...given(template),
    };
    this.templates.set(row.id, row);
    return copyOf(row);
  }

  /** A lab of a workshop still running unless `courseEndedAt` says when staff ended it. */
  addLab(lab: Partial<FakeLab> = {}): FakeLab {
    const row: FakeLab = { id: newId("lab"), courseEndedAt: null, ...given(lab) };
    this.labs.set(row.id, row);
    return copyOf(row);
  }

  /** A record as a fixture (any state); without a template or lab, fresh ones with the schema's defaults. */
  addEnvironment(environment: Partial<FakeEnvironment> = {}): FakeEnvironment {
    const row: FakeEnvironment = {
      id: newId("env"),
      userId: newId("student"),
      labId: environment.labId ?? this.addLab().id,
      templateId: environment.templateId ?? this.addTemplate().id,
      workerId: null,
      state: "PENDING",
      stopReason: null,
      containerId: null,
      volumeName: null,
      error: null,
      startedAt: null,
      stoppedAt: null,
      lastActivityAt: null,
      expiresAt: null,
      warnedAt: null,
      startClaimedAt: null,
      queuedAt: null,
      queueSeenAt: null,
      movingToWorkerId: null,
      ...given(environment),
    };
    this.environments.set(row.id, row);
    return copyOf(row);
  }

  environment(id: string): FakeEnvironment | null {
    const row = this.environments.get(id);
    return row ? copyOf(row) : null;
  }

  worker(id: string): FakeWorker | null {
    const row = this.workers.get(id);
    return row ? copyOf(row) : null;
  }

  /** The environment's lab; a record always has one (the schema's foreign key). */
  labOf(environment: FakeEnvironment): FakeLab {
    const lab = this.labs.get(environment.labId);
    if (!lab) throw new Error(`fake store: environment ${environment.id} has no lab ${environment.labId}`);
    return lab;
  }

  /** The environment's template; a record always has one (the schema's foreign key). */
  templateOf(environment: FakeEnvironment): FakeTemplate {
    const template = this.templates.get(environment.templateId);
    if (!template) throw new Error(`fake store: environment ${environment.id} has no template ${environment.templateId}`);
    return template;
  }
}
