/**
 * Who a person coming back from an OpenID Provider is here. An identity (provider + subject)
 * seen before is that user; otherwise an account with the same email is linked only when the
 * provider vouches for the email (email_verified), or a new account is made. Then the
 * provider's allowed domains are applied, and group members are enrolled in their courses.
 */
import { DisplayName, Email } from "../../../common/forms/accounts";
import type { Database } from "../../database/client";
import type { OidcProviderConfig } from "./provider-config";
import type { ProviderClaims } from "./oidc-client";

export type SignInRefusal = "domain_not_allowed" | "email_not_verified";

export class SignInRefusedError extends Error {
  constructor(readonly code: SignInRefusal) {
    super(code);
  }
}

export interface ExternalSignIn {
  userId: string;
  /** How the account was found: "identity" (seen before), "email" (linked now), "created". */
  matched: "identity" | "email" | "created";
  /** Course ids the person was enrolled in now through their groups. */
  enrolledCourseIds: string[];
}

interface Person {
  subject: string;
  email: string | null;
  emailVerified: boolean;
  displayName: string;
  groups: string[];
}

/** Reads the claims through the provider's claim mapping; what does not parse is left out. */
export function personFrom(provider: OidcProviderConfig, claims: ProviderClaims): Person {
  const email = Email.safeParse(claims[provider.claims.email]);
  const verified = claims.email_verified === true || claims.email_verified === "true";
  const name = DisplayName.safeParse(claims[provider.claims.name]);
  const rawGroups = claims[provider.claims.groups];
  const groups = Array.isArray(rawGroups) ? rawGroups.filter((group): group is string => typeof group === "string") : [];
  const fallbackName = email.success ? email.data.split("@")[0]! : `${provider.name} user`;
  return {
    subject: claims.sub,
    email: email.success ? email.data : null,
    emailVerified: email.success && verified,
    displayName: name.success ? name.data : (DisplayName.safeParse(fallbackName).data ?? "New user"),
    groups,
  };
}

export async function signInExternal(db: Database, provider: OidcProviderConfig, claims: ProviderClaims): Promise<ExternalSignIn> {
  const person = personFrom(provider, claims);
  if (provider.allowedDomains.length > 0) {
    // An unverified email proves nothing about the domain.
    const domain = person.emailVerified ? person.email!.split("@")[1] : undefined;
    if (!domain || !provider.allowedDomains.includes(domain)) throw new SignInRefusedError("domain_not_allowed");
  }
  const { userId, matched } = await findOrCreateUser(db, provider.id, person);
  const enrolledCourseIds = await enrolByGroups(db, provider, userId, person.groups);
  return { userId, matched, enrolledCourseIds };
}

async function findOrCreateUser(db: Database, provider: string, person: Person): Promise<{ userId: string; matched: ExternalSignIn["matched"] }> {
  const key = { provider_subject: { provider, subject: person.subject } };
  const known = await db.externalIdentity.findUnique({ where: key });
  if (known) return { userId: known.userId, matched: "identity" };
  const identity = { provider, subject: person.subject };
  try {
    const sameEmail = person.email ? await db.user.findUnique({ where: { email: person.email } }) : null;
    if (sameEmail) {
      // Linking on an email the provider does not vouch for would let anyone claim anyone's account.
      if (!person.emailVerified) throw new SignInRefusedError("email_not_verified");
      await db.externalIdentity.create({ data: { ...identity, userId: sameEmail.id } });
      return { userId: sameEmail.id, matched: "email" };
    }
    const user = await db.user.create({
      data: { displayName: person.displayName, email: person.emailVerified ? person.email : null, identities: { create: identity } },
    });
    return { userId: user.id, matched: "created" };
  } catch (error) {
    // Two callbacks for one new person at once: the other made the identity (or the account); use it.
    if ((error as { code?: string }).code !== "P2002") throw error;
    const made = await db.externalIdentity.findUnique({ where: key });
    if (made) return { userId: made.userId, matched: "identity" };
    return findOrCreateUser(db, provider, person);
  }
}

/** Enrols as a student in each course mapped from the person's groups; a member keeps the role they have. */
async function enrolByGroups(db: Database, provider: OidcProviderConfig, userId: string, groups: string[]): Promise<string[]> {
  const slugs = [...new Set(groups.map((group) => provider.groupCourses[group]).filter((slug): slug is string => Boolean(slug)))];
  if (slugs.length === 0) return [];
  const courses = await db.course.findMany({ where: { slug: { in: slugs } }, select: { id: true, members: { where: { userId }, select: { id: true } } } });
  const newCourses = courses.filter((course) => course.members.length === 0).map((course) => course.id);
  await db.courseMember.createMany({ data: newCourses.map((courseId) => ({ courseId, userId, role: "STUDENT" as const })), skipDuplicates: true });
  return newCourses;
}
