"use client";
/**
 * The lab page's tabs beside the terminal when the template declares more than a shell: a
 * Preview per previewable port (the student's web server, through /preview/<environment>/<port>/)
 * and a log per sidecar service. The terminal stays mounted while another tab shows. The page
 * owns which tab shows (useEnvironmentTabs): a link in the lab's text can open a preview.
 */
import { useMemo, useState, type ReactNode } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "../../trpc";
import type { PreviewLinkHost, PreviewTarget } from "../../components/preview-links";

type Tab = { kind: "terminal" } | { kind: "preview"; port: number; path: string } | { kind: "logs"; service: string };

const LOG_REFRESH_MS = 3000;

export const previewPath = (environmentId: string, port: number, path = "/") => `/preview/${environmentId}/${port}${path}`;

function ServiceLog({ environmentId, service }: { environmentId: string; service: string }) {
  const trpc = useTRPC();
  const log = useQuery({ ...trpc.environment.serviceLogs.queryOptions({ environmentId, service, lines: 300 }), refetchInterval: LOG_REFRESH_MS });
  return (
    <pre className="service-log" aria-label={`The last lines ${service} printed`} aria-live="off">
      {log.data?.log || (log.error ? log.error.message : "Reading the log…")}
    </pre>
  );
}

export type EnvironmentTabsState = ReturnType<typeof useEnvironmentTabs>;

/** The tabs an environment offers (its previewable ports and services), which one shows, and what links in the lab's text may open. */
export function useEnvironmentTabs(environmentId: string | null) {
  const trpc = useTRPC();
  const [tab, setTab] = useState<Tab>({ kind: "terminal" });
  const apps = useQuery({ ...trpc.environment.apps.queryOptions({ environmentId: environmentId ?? "" }), enabled: environmentId !== null, retry: false });
  const ports = useMemo(() => (environmentId ? (apps.data?.previewPorts ?? []) : []), [environmentId, apps.data]);
  const services = environmentId ? (apps.data?.services ?? []) : [];
  const links = useMemo<PreviewLinkHost>(
    () => ({
      href: ({ port, path }: PreviewTarget) => (environmentId && ports.includes(port) ? previewPath(environmentId, port, path) : null),
      open: ({ port, path }: PreviewTarget) => setTab({ kind: "preview", port, path }),
    }),
    [environmentId, ports],
  );
  return { environmentId, tab, setTab, ports, services, links };
}

export function EnvironmentTabs({ tabs, children }: { tabs: EnvironmentTabsState; children: ReactNode }) {
  const { environmentId, tab, setTab, ports, services } = tabs;
  const hasTabs = ports.length > 0 || services.length > 0;
  // The terminal keeps its place in the tree whatever shows: moving it would restart its panel.
  const terminalShown = !hasTabs || tab.kind === "terminal";
  const shown = tab.kind === "terminal" ? "terminal" : tab.kind === "preview" ? `preview-${tab.port}` : `logs-${tab.service}`;
  const tabButton = (key: string, label: string, next: Tab) => (
    <button
      key={key}
      type="button"
      role="tab"
      aria-selected={shown === key}
      className={`environment-tab${shown === key ? " active" : ""}`}
      onClick={() => setTab(next)}
    >
      {label}
    </button>
  );
  return (
    <>
      {hasTabs && (
        <div className="environment-tabs" role="tablist" aria-label="What runs in your environment">
          {tabButton("terminal", "Terminal", { kind: "terminal" })}
          {ports.map((port) => tabButton(`preview-${port}`, `Preview :${port}`, { kind: "preview", port, path: "/" }))}
          {services.map((service) => tabButton(`logs-${service}`, `Logs: ${service}`, { kind: "logs", service }))}
        </div>
      )}
      <div className="environment-tab-body" hidden={!terminalShown}>
        {children}
      </div>
      {hasTabs && environmentId && tab.kind === "preview" && (
        <div className="environment-tab-body preview-frame">
          <p className="preview-address">
            Port {tab.port} of your environment.{" "}
            <a href={previewPath(environmentId, tab.port, tab.path)} target="_blank" rel="noreferrer">
              Open in a new tab
            </a>
          </p>
          <iframe title={`Preview of port ${tab.port}`} src={previewPath(environmentId, tab.port, tab.path)} />
        </div>
      )}
      {hasTabs && environmentId && tab.kind === "logs" && (
        <div className="environment-tab-body">
          <ServiceLog environmentId={environmentId} service={tab.service} />
        </div>
      )}
    </>
  );
}
