"use client";
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../../trpc";
import { ErrorAlert } from "../../components/error-alert";
import { formErrorText } from "../../components/errors";
import { TableOfRows } from "../../components/table-of-rows";
import { AdminOnly } from "../admin-only";
import { AdminLinks } from "../admin-links";

const SCHEDULING_WORDS = {
  OPEN: "Open",
  CORDONED: "Cordoned: nothing new placed here",
  DRAINING: "Draining: environments move at their next start",
} as const;
type Scheduling = keyof typeof SCHEDULING_WORDS;

/** The fleet for administrators: cordon, drain and open workers; export their workspaces; restore a lost host's. */
export default function AdminWorkersPage() {
  return (
    <AdminOnly title="Workers" refusal="Only administrators can manage workers.">
      {() => (
        <main className="page wide">
          <div className="page-title">
            <h1>Workers</h1>
            <p className="muted">
              Cordon a worker to place nothing new there; drain it to also move each of its environments, files included, to another worker at its next start.
              <AdminLinks current="/admin/workers" />
            </p>
          </div>
          <WorkerTable />
          <StrandedWorkspaces />
        </main>
      )}
    </AdminOnly>
  );
}

function WorkerTable() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const workers = useQuery(trpc.admin.workers.queryOptions(undefined, { refetchInterval: 5000 }));
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.admin.workers.queryKey() });
  const setScheduling = useMutation(trpc.admin.setWorkerScheduling.mutationOptions({ onSuccess: refresh }));
  const exportNow = useMutation(trpc.admin.exportWorkerWorkspaces.mutationOptions());
  const error = formErrorText(workers.error ?? setScheduling.error ?? exportNow.error);
  const actions: Array<{ to: Scheduling; label: string }> = [
    { to: "CORDONED", label: "Cordon" },
    { to: "DRAINING", label: "Drain" },
    { to: "OPEN", label: "Open" },
  ];

  return (
    <section aria-labelledby="workers-heading">
      <h2 id="workers-heading">Fleet</h2>
      <ErrorAlert text={error} />
      {exportNow.data && (
        <p className="notice" role="status">
          Exported {exportNow.data.exported} workspace{exportNow.data.exported === 1 ? "" : "s"}
          {exportNow.data.failed > 0 && `; ${exportNow.data.failed} failed`}
          {exportNow.data.elsewhere > 0 && `; ${exportNow.data.elsewhere} not reachable from this server`}.
        </p>
      )}
      <TableOfRows
        inCard
        headings={["Worker", "Status", "Placement", "Running", "Workspaces held", "Actions"]}
        notice={workers.data?.length === 0 && "No worker has connected yet."}
      >
        {workers.data?.map((worker) => (
          <tr key={worker.id} data-testid="worker-row" data-worker={worker.id}>
            <td>
              {worker.name} <span className="muted small">{worker.id}</span>
            </td>
            <td>{worker.status}</td>
            <td>{SCHEDULING_WORDS[worker.scheduling]}</td>
            <td>
              {worker.runningEnvironments} of {worker.maxEnvironments}
            </td>
            <td>{worker.environments}</td>
            <td className="nowrap">
              {actions
                .filter((action) => action.to !== worker.scheduling)
                .map((action) => (
                  <button
                    key={action.to}
                    type="button"
                    className="secondary small-button"
                    disabled={setScheduling.isPending}
                    onClick={() => setScheduling.mutate({ workerId: worker.id, scheduling: action.to })}
                  >
                    {action.label}
                  </button>
                ))}
              <button
                type="button"
                className="secondary small-button"
                disabled={exportNow.isPending || worker.status !== "ONLINE"}
                title="Keep a copy of every workspace on this worker in the export store now"
                onClick={() => exportNow.mutate({ workerId: worker.id })}
              >
                {exportNow.isPending && exportNow.variables?.workerId === worker.id ? "Exporting…" : "Export all now"}
              </button>
            </td>
          </tr>
        ))}
      </TableOfRows>
    </section>
  );
}

/** Environments on workers that are not online, and a restore of each from its last export onto a live worker. */
function StrandedWorkspaces() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const stranded = useQuery(trpc.admin.strandedWorkspaces.queryOptions(undefined, { refetchInterval: 10_000 }));
  const workers = useQuery(trpc.admin.workers.queryOptions());
  const [targets, setTargets] = useState<Record<string, string>>({});
  const restore = useMutation(
    trpc.admin.restoreWorkspace.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.admin.strandedWorkspaces.queryKey() }),
    }),
  );
  const online = (workers.data ?? []).filter((worker) => worker.status === "ONLINE" && worker.scheduling === "OPEN");
  const error = formErrorText(stranded.error ?? restore.error);

  return (
    <section aria-labelledby="stranded-heading">
      <h2 id="stranded-heading">Workspaces on workers that are not online</h2>
      <p className="muted">Their students are told to wait. Restoring puts the last export on another worker: the student's next start runs there.</p>
      <ErrorAlert text={error} />
      {restore.isSuccess && (
        <p className="notice" role="status">
          Restored from the export of {new Date(restore.data.restoredFrom).toLocaleString()}.
        </p>
      )}
      <TableOfRows
        inCard
        headings={["Student", "Lab", "Worker", "Last export", "Restore onto"]}
        notice={stranded.data?.length === 0 && "Every workspace is on an online worker."}
      >
        {stranded.data?.map((environment) => {
          const target = targets[environment.id] ?? online[0]?.id ?? "";
          return (
            <tr key={environment.id} data-testid="stranded-row">
              <td>{environment.user.displayName}</td>
              <td>{environment.lab.title}</td>
              <td className="muted">{environment.workerId}</td>
              <td>{environment.latestExport ? new Date(environment.latestExport.createdAt).toLocaleString() : <span className="muted">none</span>}</td>
              <td className="nowrap">
                <select
                  aria-label={`Worker to restore ${environment.user.displayName}'s workspace onto`}
                  value={target}
                  onChange={(e) => setTargets({ ...targets, [environment.id]: e.target.value })}
                >
                  {online.map((worker) => (
                    <option key={worker.id} value={worker.id}>
                      {worker.name}
                    </option>
                  ))}
                </select>
                <button
                  type="button"
                  className="primary small-button"
                  disabled={!environment.latestExport || !target || restore.isPending}
                  onClick={() => restore.mutate({ environmentId: environment.id, workerId: target })}
                >
                  {restore.isPending && restore.variables?.environmentId === environment.id ? "Restoring…" : "Restore"}
                </button>
              </td>
            </tr>
          );
        })}
      </TableOfRows>
    </section>
  );
}
