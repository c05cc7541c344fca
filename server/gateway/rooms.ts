/** Browsers watching one terminal share a room; output is emitted to it. */
export const terminalRoom = (environmentId: string, terminalId: string) => `terminal:${environmentId}:${terminalId}`;
