-- Sidecar services and preview ports per environment template.
ALTER TABLE "EnvironmentTemplate" ADD COLUMN "services" JSONB NOT NULL DEFAULT '[]';
ALTER TABLE "EnvironmentTemplate" ADD COLUMN "previewPorts" INTEGER[] DEFAULT ARRAY[]::INTEGER[];
