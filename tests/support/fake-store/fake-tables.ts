/**
 * The server's records in memory, for the fast tier: workers, templates and environments
 * with the columns the rule modules' stores read. Rows are handed out as copies (as Prisma
 * hands out fresh objects), so a rule cannot change a record except through a store.
 */
import { randomBytes } from "node:crypto";
import type { EnvironmentState, WorkerStatus } from "../../../generated/prisma/client";

export interface FakeWorker {
  id: string;
  status: WorkerStatus;
  maxEnvironments: number;
  memoryBytes: number;
}

export interface FakeTemplate {
  id: string;
  idleTimeoutMinutes: number;
  memoryReservationMb: number;
}

export interface FakeEnvironment {
  id: string;
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
}

const GIB = 1024 * 1024 * 1024;
const newId = (what: string) => `${what}-${randomBytes(4).toString("hex")}`;

/** A copy whose dates are copies too. */
export function copyOf<T extends object>(row: T): T {
  return Object.fromEntries(Object.entries(row).map(([key, value]) => [key, value instanceof Date ? new Date(value) : value])) as T;
}

export class FakeTables {
  readonly workers = new Map<string, FakeWorker>();
  readonly templates = new Map<string, FakeTemplate>();
  readonly environments = new Map<string, FakeEnvironment>();

  /** Defaults as the schema's: ONLINE; here 20 places and 8 GiB. */
  addWorker(worker: Partial<FakeWorker> = {}): FakeWorker {
    const row: FakeWorker = { id: newId("worker"), status: "ONLINE", maxEnvironments: 20, memoryBytes: 8 * GIB, ...worker };
    this.workers.set(row.id, row);
    return copyOf(row);
  }

  /** Defaults as the schema's: 30 minutes idle, 64 MiB reserved. */
  addTemplate(template: Partial<FakeTemplate> = {}): FakeTemplate {
    const row: FakeTemplate = { id: newId("template"), idleTimeoutMinutes: 30, memoryReservationMb: 64, ...template };
    this.templates.set(row.id, row);
    return copyOf(row);
  }

  /** A record as a fixture (any state); without a template, a fresh one with the schema's defaults. */
  addEnvironment(environment: Partial<FakeEnvironment> = {}): FakeEnvironment {
    const row: FakeEnvironment = {
      id: newId("env"),
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
      ...environment,
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

  /** The environment's template; a record always has one (the schema's foreign key). */
  templateOf(environment: FakeEnvironment): FakeTemplate {
    const template = this.templates.get(environment.templateId);
    if (!template) throw new Error(`fake store: environment ${environment.id} has no template ${environment.templateId}`);
    return template;
  }
}
