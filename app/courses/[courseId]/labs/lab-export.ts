"use client";
/** "Export folder": the saved lab as a folder (lab.yaml, instructions.md, steps/, checks/) zipped and downloaded. */
import { useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { strToU8, zipSync } from "fflate";
import { useTRPC } from "../../../trpc";
import { formErrorText } from "../../../components/errors";
import { downloadBlob } from "../authoring-utils";

export function useLabExport(courseId: string, labId: string | undefined) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [exportError, setExportError] = useState<string | null>(null);
  const [exporting, setExporting] = useState(false);

  const exportFolder = async () => {
    if (!labId) return;
    setExporting(true);
    setExportError(null);
    try {
      const { folderName, files } = await queryClient.fetchQuery({ ...trpc.authoring.exportLab.queryOptions({ courseId, labId }), staleTime: 0 });
      const zipped = zipSync(Object.fromEntries(Object.entries(files).map(([path, content]) => [`${folderName}/${path}`, strToU8(content)])), { level: 6 });
      downloadBlob(`${folderName}.zip`, new Blob([new Uint8Array(zipped)], { type: "application/zip" }));
    } catch (error) {
      setExportError(formErrorText(error as Parameters<typeof formErrorText>[0]) ?? "The lab could not be exported.");
    } finally {
      setExporting(false);
    }
  };
  return { exportFolder, exporting, exportError };
}
