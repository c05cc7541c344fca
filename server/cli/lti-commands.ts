/**
 * `npm run admin -- lti <command>`: registering LMS platforms, linking an LMS course to an
 * existing course, rotating the tool's keys, fetching a course's LMS roster.
 */
import { parseArgs } from "node:util";
import { rootLogger } from "../../common/logger";
import type { Database } from "../database/client";
import { registerPlatform, removePlatform } from "../lti/platforms";
import { linkContext } from "../lti/provisioning";
import { LtiRoster } from "../lti/roster";
import { PlatformTokens } from "../lti/service-token";
import { rotateToolKey } from "../lti/tool-keys";

export const LTI_USAGE = `  lti add --name <name> --issuer <url> --client-id <id> --auth-url <url> --token-url <url> --jwks-url <url>
          --deployment <id> [--deployment <id> ...] [--frame-origin <url> ...]
                                                                    registers an LMS (or updates it: same issuer and client id)
  lti list                                                          the registered LMS platforms, and the URLs to give an LMS
  lti remove --issuer <url> --client-id <id>                        forgets an LMS (its courses and accounts stay)
  lti link --issuer <url> --client-id <id> --context <LMS course id> --course <course id>
                                                                    makes an LMS course that Shellroom course (its next launches enrol there)
  lti rotate-keys                                                   a new signing key; the previous stays published until the next rotation
  lti roster --course <course id>                                   fetches the course's members from its LMS now`;

/** The URLs an LMS asks for when Shellroom is added as an LTI 1.3 tool. */
export function toolUrls(publicUrl: string) {
  const base = publicUrl.replace(/\/$/, "");
  return {
    "Login initiation URL (OIDC)": `${base}/api/lti/login`,
    "Target link / redirect URI": `${base}/api/lti/launch`,
    "Public JWKS URL": `${base}/api/lti/jwks`,
    "Deep linking URL": `${base}/api/lti/launch`,
  };
}

function printToolUrls() {
  const publicUrl = process.env.SHELLROOM_PUBLIC_URL;
  if (!publicUrl) return console.log("Set SHELLROOM_PUBLIC_URL to see the URLs to give the LMS.");
  console.log("Give the LMS these URLs:");
  for (const [name, url] of Object.entries(toolUrls(publicUrl))) console.log(`  ${name}: ${url}`);
}

export class LtiCommandError extends Error {}

export async function ltiCommand(args: string[], openDatabase: () => Promise<{ db: Database; close(): Promise<void> }>) {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      name: { type: "string" },
      issuer: { type: "string" },
      "client-id": { type: "string" },
      "auth-url": { type: "string" },
      "token-url": { type: "string" },
      "jwks-url": { type: "string" },
      deployment: { type: "string", multiple: true },
      "frame-origin": { type: "string", multiple: true },
      course: { type: "string" },
      context: { type: "string" },
    },
  });
  const [command] = positionals;
  const commands: Record<string, (db: Database) => Promise<void>> = {
    add: async (db) => {
      const parsed = await registerPlatform(db, {
        name: values.name ?? values.issuer ?? "",
        issuer: values.issuer ?? "",
        clientId: values["client-id"] ?? "",
        authLoginUrl: values["auth-url"] ?? "",
        accessTokenUrl: values["token-url"] ?? "",
        jwksUrl: values["jwks-url"] ?? "",
        deploymentIds: values.deployment ?? [],
        frameOrigins: values["frame-origin"] ?? [],
      }).catch((error: Error & { issues?: { path: PropertyKey[]; message: string }[] }) => {
        if (!error.issues) throw error;
        throw new LtiCommandError(error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("\n"));
      });
      console.log(`Registered ${parsed.name} (${parsed.issuer}, client ${parsed.clientId}, deployments ${parsed.deploymentIds.join(", ")}).`);
      printToolUrls();
    },
    list: async (db) => {
      const platforms = await db.ltiPlatform.findMany({ orderBy: { createdAt: "asc" } });
      if (platforms.length === 0) console.log("No LMS is registered.");
      for (const platform of platforms) {
        console.log(`${platform.name}: ${platform.issuer} client ${platform.clientId}; deployments ${platform.deploymentIds.join(", ")}`);
      }
      printToolUrls();
    },
    remove: async (db) => {
      if (!(await removePlatform(db, values.issuer ?? "", values["client-id"] ?? "")))
        throw new LtiCommandError("No LMS is registered with that issuer and client id.");
      console.log("Removed.");
    },
    link: async (db) => {
      const platform = await db.ltiPlatform.findUnique({ where: { issuer_clientId: { issuer: values.issuer ?? "", clientId: values["client-id"] ?? "" } } });
      if (!platform) throw new LtiCommandError("No LMS is registered with that issuer and client id.");
      const course = await db.course.findUnique({ where: { id: values.course ?? "" }, select: { id: true, title: true } });
      if (!course || !values.context)
        throw new LtiCommandError("Name the LMS course (--context, its LTI context id) and an existing Shellroom course (--course).");
      await linkContext(db, platform.id, values.context, course.id);
      console.log(`LMS course ${values.context} of ${platform.name} is now "${course.title}".`);
    },
    "rotate-keys": async (db) => {
      console.log(`The tool now signs with key ${await rotateToolKey(db)}.`);
    },
    roster: async (db) => {
      const contexts = await db.ltiContext.findMany({ where: { courseId: values.course ?? "" }, select: { id: true } });
      if (contexts.length === 0) throw new LtiCommandError("No LMS course is linked to that course.");
      const roster = new LtiRoster(db, new PlatformTokens(db), rootLogger.child({ component: "lti-roster" }));
      for (const context of contexts) {
        const outcome = await roster.sync(context.id);
        console.log(`${outcome.members} members enrolled (${outcome.learners} learners).`);
      }
    },
  };
  const run = command ? commands[command] : undefined;
  if (!run) throw new LtiCommandError(`usage: npm run admin -- <command>\n${LTI_USAGE}`);
  const database = await openDatabase();
  try {
    await run(database.db);
  } finally {
    await database.close();
  }
}
