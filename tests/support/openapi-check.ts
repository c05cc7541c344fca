/**
 * A structural check of an OpenAPI 3.x document, written against the fields the OpenAPI 3.1
 * specification requires: openapi and info (title, version); paths whose operations each have
 * responses, each response a description; path parameters declared for every {template};
 * every local $ref resolvable; every security requirement naming a declared scheme.
 * Answers the problems found (none: valid).
 */
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

type Json = Record<string, any>;

function resolves(document: Json, ref: string): boolean {
  if (!ref.startsWith("#/")) return true; // an external document: not ours to check
  let node: unknown = document;
  for (const part of ref.slice(2).split("/")) {
    const key = part.replace(/~1/g, "/").replace(/~0/g, "~");
    if (node === null || typeof node !== "object" || !(key in node)) return false;
    node = (node as Json)[key];
  }
  return true;
}

function refsIn(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) refsIn(item, found);
  else if (node && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string") found.push(value);
      else refsIn(value, found);
    }
  }
  return found;
}

export function openApiProblems(document: Json): string[] {
  const problems: string[] = [];
  if (typeof document.openapi !== "string" || !/^3\.\d+\.\d+$/.test(document.openapi)) problems.push(`openapi: "${document.openapi}" is not 3.x.y`);
  if (typeof document.info?.title !== "string") problems.push("info.title is required");
  if (typeof document.info?.version !== "string") problems.push("info.version is required");
  if (!document.paths && !document.components && !document.webhooks) problems.push("one of paths, components, webhooks is required");
  const schemes = Object.keys(document.components?.securitySchemes ?? {});
  for (const [path, item] of Object.entries<Json>(document.paths ?? {})) {
    if (!path.startsWith("/")) problems.push(`${path}: a path starts with /`);
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]!);
    for (const method of METHODS) {
      const operation = item[method] as Json | undefined;
      if (!operation) continue;
      const where = `${method.toUpperCase()} ${path}`;
      const responses = Object.entries<Json>(operation.responses ?? {});
      if (responses.length === 0) problems.push(`${where}: no responses`);
      for (const [status, response] of responses) {
        if (!/^([1-5]\d\d|[1-5]XX|default)$/.test(status)) problems.push(`${where}: response key ${status}`);
        if (!response.$ref && typeof response.description !== "string") problems.push(`${where} ${status}: a response needs a description`);
      }
      const parameters = [...(item.parameters ?? []), ...(operation.parameters ?? [])] as Json[];
      for (const name of templated) {
        const declared = parameters.find((parameter) => parameter.in === "path" && parameter.name === name);
        if (!declared) problems.push(`${where}: path parameter {${name}} is not declared`);
        else if (declared.required !== true) problems.push(`${where}: path parameter {${name}} must be required`);
      }
      for (const parameter of parameters) {
        if (!parameter.$ref && (typeof parameter.name !== "string" || !["query", "header", "path", "cookie"].includes(parameter.in))) {
          problems.push(`${where}: a parameter needs a name and in`);
        }
      }
      for (const requirement of (operation.security ?? document.security ?? []) as Json[]) {
        for (const scheme of Object.keys(requirement)) if (!schemes.includes(scheme)) problems.push(`${where}: security scheme ${scheme} is not declared`);
      }
    }
  }
  for (const ref of refsIn(document)) if (!resolves(document, ref)) problems.push(`$ref ${ref} does not resolve`);
  return problems;
}
