/** Browsers watching one terminal share a room; output is emitted to it. */
export const terminalRoom = (environmentId: string, terminalId: string) => `terminal:${environmentId}:${terminalId}`;

/** Everyone viewing any terminal of an environment (for notices). */
export const environmentRoom = (environmentId: string) => `environment:${environmentId}`;
