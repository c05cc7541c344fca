"use client";
/** The preview uses the very renderer students see (raw HTML dropped, unsafe links removed). */
import { Markdown } from "../../components/markdown";

export function MarkdownPreview({ text, headingOffset = 0 }: { text: string; headingOffset?: number }) {
  return <Markdown text={text} headingOffset={headingOffset} />;
}
