/**
 * What the panel accepts from the socket, read against the contract (protocol/browser-contract.ts).
 * The server is trusted, but a panel must not crash on a message from a newer or older server
 * (or a bug): a push that does not parse is dropped, a reply that does not parse is the coded
 * failure `malformed_reply`; either is told on the console with its event, once a minute.
 */
import { BrowserRequests, ServerPushes } from "../../protocol/browser-contract";
import { readMessage, readReply, throttledReport, type MessageContract, type RequestContract } from "../../protocol/contract";

const report = throttledReport(({ event, issues, dropped }) =>
  console.warn(`Shellroom ignored a malformed ${event} from the server (${issues})${dropped > 0 ? `; ${dropped} more since the last warning` : ""}`),
);

/** A pushed message in the shape the panel uses, or null to ignore it. */
export const readPush = <C extends MessageContract>(contract: C, raw: unknown) => readMessage(contract, raw, report);

/** A reply to one of the panel's requests (a malformed one reads as a coded failure). */
export const readReplyTo = <C extends RequestContract>(contract: C, raw: unknown) => readReply(contract, raw, report);

export const readOutput = (raw: unknown) => readPush(ServerPushes.output, raw);
export const readRepaint = (raw: unknown) => readPush(ServerPushes.repaint, raw);
export const readScreenPart = (raw: unknown) => readPush(ServerPushes.screenPart, raw);
export const readExit = (raw: unknown) => readPush(ServerPushes.exit, raw);
export const readTabs = (raw: unknown) => readPush(ServerPushes.tabs, raw);
export const readResume = (raw: unknown) => readPush(ServerPushes.resume, raw);
export const readControl = (raw: unknown) => readPush(ServerPushes.control, raw);
export const readBroadcast = (raw: unknown) => readPush(ServerPushes.broadcast, raw);
export const readNotice = (raw: unknown) => readPush(ServerPushes.notice, raw);
export const readServerError = (raw: unknown) => readPush(ServerPushes.error, raw);
export const readAttachReply = (raw: unknown) => readReplyTo(BrowserRequests.attach, raw);

export type { AttachReply as AttachResult, EnvironmentNotice as ReceivedNotice, ReceivedBroadcast } from "../../protocol/browser-contract";
