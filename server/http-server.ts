/**
 * One Node HTTP server hosts everything on one origin: tRPC at /api/trpc, socket.io at
 * /socket.io, health at /healthz, and Next.js for every other path.
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import type { Logger } from "../common/logger";
import { TERMINAL_NAMESPACE } from "../protocol/browser-messages";
import { WORKER_NAMESPACE, WORKER_SOCKET_PATH } from "../protocol/worker-messages";
import { throttledReport } from "../protocol/contract";
import { AuditLog } from "./audit";
import { createServerMetrics, readiness } from "./observability";
import { metricsAccess } from "./auth/metrics-access";
import { mutationOriginAllowed } from "./auth/origin";
import { clientAddressResolver } from "./auth/client-address";
import { MAX_BATCH_CALLS, bodyLimitFor, procedurePaths, refusedByDeclaredLength } from "./auth/request-limits";
import { MemoryRateLimiter, RedisRateLimiter } from "./auth/rate-limit";
import type { Database } from "./database/client";
import { EnvironmentService } from "./environments/environment-service";
import { EnvironmentApps } from "./environments/environment-apps";
import { DEFAULT_ADMISSION_QUEUE, type AdmissionQueueOptions } from "./environments/admission-queue";
import { ImageBuilds } from "./images/image-builds";
import { ImageSync } from "./images/image-sync";
import { WorkerImages } from "./images/worker-images";
import { startJobQueue, stopJobQueue } from "./jobs/job-queue";
import { createSocketServer } from "./gateway/socket-server";
import { environmentRoom } from "./gateway/rooms";
import { LifecycleSweeper } from "./environments/lifecycle-sweeper";
import { PrismaSweepStore } from "./environments/sweep-store";
import { reconcileWorker } from "./workers/reconcile";
import { PrismaReconcileStore } from "./workers/reconcile-store";
import { nudgeOnEnvironmentChange } from "./live/environment-nudges";
import { ClassPreparation } from "./workers/class-preparation";
import { MemoryHeartbeats, RedisHeartbeats } from "./workers/heartbeats";
import { DEFAULT_RUNAWAY_POLICY, MemoryUsageStore, RedisUsageStore, type RunawayPolicy } from "./workers/environment-usage";
import { liveRoomChannel } from "./live/live-room-channel";
import { BulkActions, MemoryBulkActionStore, RedisBulkActionStore } from "./live/bulk-actions";
import { RunawayWatch } from "./live/runaway-watch";
import { localOutputBus, redisOutputBus } from "./gateway/terminal-output-bus";
import { WorkerDirectory } from "./workers/scheduler";
import { PrismaDirectoryStore } from "./workers/directory-store";
import { ServerToBrowser } from "../protocol/browser-messages";
import { attachTerminalGateway } from "./gateway/terminal-gateway";
import { resumeTerminals } from "./gateway/terminal-resume";
import { attachWorkerGateway, workerRequestAllowed, workersConnectedHere } from "./gateway/worker-gateway";
import { guardSessions, type SessionGuard } from "./gateway/session-guard";
import { appRouter } from "./trpc/root";
import { createContext } from "./trpc/trpc";
import { WorkerLink } from "./workers/worker-link";
import { RELAY_PATH, ReplicaRelay } from "./workers/replica-relay";
import { WorkerStreams } from "./workers/worker-streams";
import { ExportStore } from "./workspaces/export-store";
import { WorkspaceTransfers } from "./workspaces/workspace-transfers";
import { WorkspaceSnapshots } from "./workspaces/workspace-snapshots";
import { workspaceDownloads } from "./workspaces/workspace-downloads";
import { FlowCookies } from "./auth/oidc/flow-cookie";
import { OidcClients } from "./auth/oidc/oidc-client";
import { oidcRouteHandler } from "./auth/oidc/oidc-routes";
import type { OidcProviderConfig } from "./auth/oidc/provider-config";
import { mailPasswordReset } from "./auth/password-reset-mail";
import { smtpMailer } from "./mail/mailer";
import { LtiGrades } from "./lti/grades";
import { LtiRoster } from "./lti/roster";
import { LTI_PATH, ltiRoutes } from "./lti/lti-routes";
import { frameAncestorsPolicy } from "./lti/platforms";
import { PlatformTokens } from "./lti/service-token";
import { bearerTokenOf } from "./auth/api-tokens";
import { REST_BASE_PATH } from "./api/openapi-document";
import { restApi } from "./api/rest-api";
import { WebhookEvents } from "./webhooks/webhook-events";
import { attachWebhookDelivery, DEFAULT_DELIVERY_POLICY, type DeliveryPolicy } from "./webhooks/webhook-delivery";
import { isPreviewUrl, previewProxy } from "./preview/preview-proxy";
import type { Duplex } from "node:stream";

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

export interface ShellroomServerOptions {
  db: Database;
  /** The secret each worker's own token is derived from (server/workers/worker-credentials.ts). */
  workerSecret: string;
  redisUrl?: string;
  /** Channel prefix on Redis: replicas of one deployment share it. */
  redisKeyPrefix?: string;
  publicUrl?: string;
  /** When an environment at its pids/CPU limit is a runaway, and when one is stopped. */
  runaway?: Partial<RunawayPolicy>;
  /** Environments an action on everyone (reset all, ...) works on at once. */
  bulkConcurrency?: number;
  /** The admission queue: when an abandoned entry leaves, how often the pump runs (tests shorten them). */
  admissionQueue?: Partial<AdmissionQueueOptions>;
  /** Reverse proxies whose X-Forwarded-For names the client (proxy-addr syntax); none: the socket's peer. */
  trustedProxies?: readonly string[];
  /** Bearer token a scraper sends for /metrics; unset: /metrics answers this machine only. */
  metricsToken?: string;
  /** How often live sockets re-validate their session (tests shorten it). */
  sessionRecheckMs?: number;
  log: Logger;
  /** Minutes before a session's start its warm pools begin to fill (SHELLROOM_PREPARE_LEAD_MINUTES). */
  prepareLeadMinutes?: number;
  /** How often class preparation re-plans warm pools (ms; 0: only on changes); it also re-plans whenever a preparation changes. */
  preparationIntervalMs?: number;
  /** How often the lifecycle sweep runs (idle, lifetime, lost workers); 0 turns it off (tests call it). */
  sweepIntervalMs?: number;
  /** OpenID Providers people may sign in with (SHELLROOM_OIDC_PROVIDERS). */
  oidcProviders?: readonly OidcProviderConfig[];
  /** Where reset links are mailed from (SHELLROOM_SMTP_URL, SHELLROOM_SMTP_FROM); unset: only admins make links. */
  smtp?: { url: string; from: string };
  /** Webhook retries and timeouts (tests shorten them). */
  webhookDelivery?: Partial<DeliveryPolicy>;
  /** Next.js's request handler; absent in API-only tests. */
  pages?: RequestHandler;
  /** Workspace exports: where they are kept (default .data/exports), how many per environment, and how often snapshots are taken (minutes; 0: never). */
  exports?: { dir?: string; keep?: number; snapshotMinutes?: number };
  /** This replica's address as the other replicas reach it (SHELLROOM_REPLICA_URL); unset: the address it listens on. */
  replicaUrl?: string;
}

export interface ShellroomServer {
  httpServer: http.Server;
  /** The request channel to workers (operations and tests). */
  workers: WorkerLink;
  /** Bytes to and from workers: tarballs, image archives (worker-streams.ts). */
  streams: WorkerStreams;
  /** Workspace downloads, exports, moves and restores; snapshots (operations and tests). */
  workspaces: { transfers: WorkspaceTransfers; snapshots: WorkspaceSnapshots };
  sweeper: LifecycleSweeper;
  /** Warm pools sized for the classes about to start (operations and tests). */
  preparation: ClassPreparation;
  /** Live workers and placement (operations and tests). */
  directory: WorkerDirectory;
  /** Live sockets' rights (tests run the periodic session recheck themselves). */
  sessions: SessionGuard;
  listen(port: number, host: string): Promise<string>;
  close(): Promise<void>;
}

export async function createShellroomServer(options: ShellroomServerOptions): Promise<ShellroomServer> {
  const { db, log } = options;
  const httpServer = http.createServer();
  const sockets = await createSocketServer(httpServer, options.redisUrl, log, options.redisKeyPrefix, (request) =>
    workerRequestAllowed(options.workerSecret, request),
  );
  const workerNamespace = sockets.workerIo.of(WORKER_NAMESPACE);
  const terminalNamespace = sockets.io.of(TERMINAL_NAMESPACE);
  const workers = new WorkerLink(
    workerNamespace,
    throttledReport((fields) => log.warn(fields, "a worker's reply did not match its contract")),
  );
  const streams = new WorkerStreams(
    workers,
    throttledReport((fields) => log.warn(fields, "a worker's stream message did not match its contract")),
  );
  const transfers = new WorkspaceTransfers(db, streams, new ExportStore(options.exports?.dir ?? path.join(".data", "exports"), options.exports?.keep), log);
  const snapshots = new WorkspaceSnapshots(db, transfers, log, options.exports?.snapshotMinutes);
  snapshots.start();
  const metrics = createServerMetrics(db);
  // With Redis there may be other replicas: a worker connected to one of them is reached through it.
  const relay = sockets.redis
    ? new ReplicaRelay(
        workerNamespace,
        options.workerSecret,
        streams,
        (workerId) => streams.holds(workerId),
        log,
        throttledReport((fields) => log.warn(fields, "a relayed reply did not match its contract")),
        (side, kind, outcome) => metrics.recordRelay(side, kind, outcome),
      )
    : undefined;
  if (relay) streams.useRelay(relay);
  const heartbeats = sockets.redis ? new RedisHeartbeats(sockets.redis, options.redisKeyPrefix ?? "shellroom") : new MemoryHeartbeats();
  const runawayPolicy = { ...DEFAULT_RUNAWAY_POLICY, ...options.runaway };
  const usageStore = sockets.redis
    ? new RedisUsageStore(sockets.redis, options.redisKeyPrefix ?? "shellroom", runawayPolicy)
    : new MemoryUsageStore(runawayPolicy);
  const live = liveRoomChannel(terminalNamespace);
  const outputBus = sockets.redis
    ? await redisOutputBus(terminalNamespace, sockets.redis, options.redisKeyPrefix ?? "shellroom", log)
    : localOutputBus(terminalNamespace);
  const directory = new WorkerDirectory(new PrismaDirectoryStore(db), heartbeats);
  const environments = new EnvironmentService(
    db,
    workers,
    directory,
    log,
    (notice) => terminalNamespace.to(environmentRoom(notice.environmentId)).emit(ServerToBrowser.notice, notice),
    metrics,
    undefined,
    { ...DEFAULT_ADMISSION_QUEUE, ...options.admissionQueue },
  );
  // A start on a draining worker moves its workspace first.
  environments.useWorkspaceMover(transfers);
  environments.lifecycle.onChange((change) => metrics.recordTransition(change));
  environments.lifecycle.onChange(nudgeOnEnvironmentChange(db, live));
  const sweeper = new LifecycleSweeper(new PrismaSweepStore(db), environments, directory, log);
  if (options.sweepIntervalMs !== 0) sweeper.start(options.sweepIntervalMs ?? 15_000);
  // Admits queued starts as places free (and on its timer, for frees on other replicas).
  environments.queue.start();
  const audit = new AuditLog(db, log);
  const apps = new EnvironmentApps(db, workers, streams);
  const preparation = new ClassPreparation(db, workers, directory, log, options.prepareLeadMinutes);
  if (options.preparationIntervalMs !== 0) preparation.start(options.preparationIntervalMs ?? 10_000);
  // A start served from a class's pool changes its plan (that seat is served).
  environments.lifecycle.onChange(() => preparation.nudge());
  // Readings pass through the runaway watch, which acts on the flags the store raises.
  const usage = new RunawayWatch(usageStore, runawayPolicy, { db, environments, workers, live, audit, log });
  const bulk = new BulkActions(
    sockets.redis ? new RedisBulkActionStore(sockets.redis, options.redisKeyPrefix ?? "shellroom") : new MemoryBulkActionStore(),
    live,
    log,
    options.bulkConcurrency,
  );
  const workerImages = new WorkerImages(db, log);
  const imageBuilds = new ImageBuilds(db, workers, directory, log, workerImages);
  // Every worker gets the images it lacks (a new host: all of them), copied or built there.
  const imageSync = new ImageSync(db, workerImages, imageBuilds, directory, () => workersConnectedHere(workerNamespace), log, streams);
  // Durable jobs (image builds, the sweep once across replicas): pg-boss in its own schema.
  const jobs = await startJobQueue(db, log);
  await imageBuilds.attach(jobs);
  imageSync.start();
  await sweeper.attach(jobs, options.sweepIntervalMs || 15_000);
  // LTI: scores to LMS gradebooks and LMS rosters into courses, both as retried jobs.
  const platformTokens = new PlatformTokens(db);
  const ltiGrades = new LtiGrades(db, platformTokens, log);
  await ltiGrades.attach(jobs);
  const ltiRoster = new LtiRoster(db, platformTokens, log, () => void preparation.refresh());
  await ltiRoster.attach(jobs);
  // Signed events to the courses' webhooks, sent from the job queue with retries.
  const webhooks = new WebhookEvents(db, log);
  webhooks.attach(await attachWebhookDelivery(jobs, db, log, { ...DEFAULT_DELIVERY_POLICY, ...options.webhookDelivery }));
  environments.lifecycle.onChange(webhooks.onEnvironmentChange);
  const rateLimiter = sockets.redis ? new RedisRateLimiter(sockets.redis, options.redisKeyPrefix ?? "shellroom") : new MemoryRateLimiter();
  const clientAddress = clientAddressResolver(options.trustedProxies);
  const mayReadMetrics = metricsAccess(options.metricsToken);
  const downloads = workspaceDownloads({ db, transfers, audit, clientAddress, log });
  // Before the gateways' own handshakes: every use of handshake.address (audit) is the client's.
  for (const namespace of [terminalNamespace, workerNamespace]) {
    namespace.use((socket, next) => {
      socket.handshake.address = clientAddress(socket.request);
      next();
    });
  }
  const sessionGuard = guardSessions(terminalNamespace, db, log, options.sessionRecheckMs);
  const sessionSockets = {
    disconnectSession: sessionGuard.endSession,
    disconnectUser: sessionGuard.endUser,
    disconnectOtherSessions: sessionGuard.endOtherSessions,
  };

  attachWorkerGateway({
    workers: workerNamespace,
    terminals: terminalNamespace,
    db,
    workerSecret: options.workerSecret,
    log,
    onBuildLog: (buildId, line, workerId) => imageBuilds.appendLog(buildId, line, workerId),
    onImagesReported: async (workerId, tags) => {
      const { lost } = await workerImages.recordHeld(workerId, tags);
      // A worker that lost an image (or joined without them) is brought what it lacks.
      if (lost.length > 0) imageSync.nudge();
    },
    heartbeats,
    usage,
    output: outputBus,
    streams,
    onWorkerConnected: async (workerId) => {
      await reconcileWorker(new PrismaReconcileStore(db), environments.lifecycle, workers, workerId, log);
      await resumeTerminals(terminalNamespace, db, workerId);
      await preparation.refresh([workerId]);
      imageSync.nudge();
    },
  });
  attachTerminalGateway({ terminals: terminalNamespace, db, workers, audit, publicUrl: options.publicUrl, log });

  const secureCookies = options.publicUrl?.startsWith("https://") ?? false;
  const oidcClients = new OidcClients(options.oidcProviders ?? [], log);
  const oidcRoutes = oidcRouteHandler({
    db,
    clients: oidcClients,
    flows: new FlowCookies(options.workerSecret, secureCookies),
    audit,
    clientAddress,
    publicUrl: options.publicUrl,
    secureCookies,
    log,
  });
  const mailer = options.smtp ? smtpMailer(options.smtp) : undefined;
  const accounts = {
    providers: oidcClients.list(),
    publicUrl: options.publicUrl,
    mailPasswordReset: mailer && ((email: string, baseUrl: string) => mailPasswordReset(db, mailer, baseUrl, email, log)),
  };
  const services = {
    db,
    environments,
    imageBuilds,
    pools: {
      push: () => preparation.refresh(),
      status: (courseId: string) => preparation.status(courseId),
      prepare: (courseId: string, seats: number) => preparation.prepare(courseId, seats),
      stopPreparing: (courseId: string) => preparation.stopPreparing(courseId),
    },
    rateLimiter,
    audit,
    sockets: sessionSockets,
    live,
    usage,
    runaway: usage,
    bulk,
    webhooks,
    secureCookies,
    clientAddress,
    accounts,
    ltiGrades,
    apps,
    workspaces: { transfers, snapshots },
  };
  const rest = restApi(
    (req, res) => createContext(services, req, res, { cookies: false }),
    options.publicUrl,
    (path, message) => log.error({ path, err: message }, "REST procedure failed"),
  );
  // One handler per body limit: tRPC counts the bytes as they arrive and stops at its limit.
  const trpcHandlers = new Map<number, ReturnType<typeof createHTTPHandler>>();
  const trpcFor = (maxBodySize: number) => {
    let handler = trpcHandlers.get(maxBodySize);
    if (!handler) {
      handler = createHTTPHandler({
        router: appRouter,
        basePath: "/api/trpc/",
        maxBodySize,
        maxBatchSize: MAX_BATCH_CALLS,
        createContext: ({ req, res }) => createContext(services, req, res),
        responseMeta: ({ errors }) => {
          // A body cut off midway leaves the rest of it on the wire: close rather than read it.
          if (errors.some((error) => error.code === "PAYLOAD_TOO_LARGE")) return { headers: new Headers({ connection: "close" }) };
          // Tell clients when to retry a rate-limited request.
          const limited = errors.find((error) => error.code === "TOO_MANY_REQUESTS");
          return limited ? { headers: new Headers({ "Retry-After": "600" }) } : {};
        },
        onError: ({ error, path }) => {
          if (error.code === "INTERNAL_SERVER_ERROR") log.error({ path, err: error.message }, "tRPC procedure failed");
        },
      });
      trpcHandlers.set(maxBodySize, handler);
    }
    return handler;
  };

  // Pages may be framed by the registered LMS platforms only (an LTI launch opens in their iframe).
  const framedBy = (res: ServerResponse, serve: () => unknown) =>
    void frameAncestorsPolicy(db).then((policy) => {
      res.setHeader("Content-Security-Policy", policy);
      serve();
    });
  const lti = ltiRoutes({
    db,
    log,
    audit,
    publicUrl: options.publicUrl,
    secureCookies,
    clientAddress,
    onStaffLaunch: (contextId) => ltiRoster.requestSync(contextId),
  });

  // Previews carry websockets, which a Next.js route cannot: they are served here (preview-proxy.ts).
  const preview = previewProxy({ db, apps, rateLimiter, publicUrl: options.publicUrl, log });
  httpServer.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (isPreviewUrl(req.url ?? "")) void preview.upgrade(req, socket, head);
    else if (req.url === RELAY_PATH) {
      if (relay) void relay.serve(req, socket, head);
      else socket.destroy();
    }
  });

  httpServer.on("request", (req, res) => {
    const url = req.url ?? "/";
    // socket.io answers its own path; every other request is ours.
    if (url.startsWith("/socket.io/") || url.startsWith(`${WORKER_SOCKET_PATH}/`)) return;
    if (isPreviewUrl(url)) return void preview.request(req, res);
    if (url.startsWith("/api/trpc/")) {
      // Every mutation is a POST (tRPC refuses them over GET): this covers them all. A request
      // with an API token carries no cookie's authority (the token's alone), so no CSRF to stop.
      if (req.method !== "GET" && bearerTokenOf(req.headers.authorization) === null && !mutationOriginAllowed(req.headers, options.publicUrl)) {
        res.writeHead(403, { "content-type": "application/json", connection: "close" });
        res.end(JSON.stringify({ error: { code: "FORBIDDEN", message: "Cross-origin request refused." } }));
        return;
      }
      const paths = procedurePaths(url, "/api/trpc/");
      const limit = bodyLimitFor(paths);
      if (refusedByDeclaredLength(req, res, limit, paths)) return;
      return trpcFor(limit)(req, res);
    }
    if (url.startsWith(LTI_PATH)) return framedBy(res, () => lti(req, res));
    if (url === REST_BASE_PATH || url.startsWith(`${REST_BASE_PATH}/`)) return rest(req, res);
    if (url.startsWith("/api/") && downloads(req, res)) return;
    if (url === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok\n");
      return;
    }
    if (url === "/readyz") {
      void readiness(db, sockets.redis ? () => sockets.redis!.ping() : undefined).then((problem) => {
        res.writeHead(problem ? 503 : 200, { "content-type": "text/plain" });
        res.end(problem ? `not ready: ${problem}\n` : "ready\n");
      });
      return;
    }
    if (url === "/readyz/workers") {
      // Whether a start can be placed now: the launcher and the browser tests wait for it (a
      // replica's own readiness above does not, or a fleet without workers would drain the balancer).
      void directory
        .liveIds()
        .then((live) => {
          res.writeHead(live.length > 0 ? 200 : 503, { "content-type": "text/plain" });
          res.end(live.length > 0 ? `ready: ${live.length} live worker(s)\n` : "not ready: no live worker\n");
        })
        .catch((error: Error) => {
          res.writeHead(503, { "content-type": "text/plain" });
          res.end(`not ready: ${error.message}\n`);
        });
      return;
    }
    if (url === "/metrics") {
      const access = mayReadMetrics(req);
      if (!access.allowed) {
        res.writeHead(access.status, { "content-type": "text/plain", ...access.headers });
        res.end(access.message);
        return;
      }
      void metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { "content-type": metrics.registry.contentType });
          res.end(text);
        },
        (error: Error) => {
          log.error({ err: error.message }, "metrics could not be collected");
          res.writeHead(500, { "content-type": "text/plain" });
          res.end("metrics could not be collected\n");
        },
      );
      return;
    }
    if (oidcRoutes(req, res)) return;
    if (options.pages) return framedBy(res, () => options.pages!(req, res));
    res.writeHead(404);
    res.end();
  });

  return {
    httpServer,
    workers,
    streams,
    workspaces: { transfers, snapshots },
    sweeper,
    preparation,
    directory,
    sessions: sessionGuard,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(port, host, () => {
          const address = httpServer.address() as AddressInfo;
          const url = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${address.port}`;
          if (relay) relay.selfUrl = options.replicaUrl ?? url;
          // Listening everywhere, a replica cannot tell which of its addresses the others reach.
          if (relay && !options.replicaUrl && (host === "0.0.0.0" || host === "::")) {
            log.warn({ selfUrl: url }, "SHELLROOM_REPLICA_URL is unset: other replicas will not reach this one for its workers' bytes");
          }
          resolve(url);
        });
      }),
    close: async () => {
      sweeper.stop();
      snapshots.stop();
      await preparation.stop();
      await environments.queue.stop();
      await imageSync.stop();
      await imageBuilds.stop();
      await workerImages.flush();
      ltiGrades.stop();
      ltiRoster.stop();
      await stopJobQueue(jobs);
      sessionGuard.stop();
      mailer?.close();
      await outputBus.close();
      await sockets.close();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}
