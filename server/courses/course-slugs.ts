import { generateJoinCode } from "./join-codes";

/** A course's slug: its title in URL-safe words, with a short random tail so two courses of one title differ. */
export function slugFrom(title: string) {
  const base =
    title
      .toLowerCase()
      .normalize("NFKD")
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "")
      .slice(0, 40) || "course";
  return `${base}-${generateJoinCode().slice(0, 4)}`;
}
