/** Owners of one terminal share a room; raw output is emitted to it. */
export const terminalRoom = (environmentId: string, terminalId: string) => `terminal:${environmentId}:${terminalId}`;

/** Viewers who are not the owner: they get output with escape sequences filtered. */
export const watcherRoom = (environmentId: string, terminalId: string) => `watch:${environmentId}:${terminalId}`;

/** Sockets that fell behind on a terminal: output skips them until they catch up. */
export const laggingRoom = (environmentId: string, terminalId: string) => `lagging:${environmentId}:${terminalId}`;

/** Everyone viewing any terminal of an environment (for notices and tabs). */
export const environmentRoom = (environmentId: string) => `environment:${environmentId}`;

/** Staff holding the keyboard of an environment (at most a few). */
export const controlRoom = (environmentId: string) => `control:${environmentId}`;

/** Every connected member of a course (broadcasts, presence). */
export const courseRoom = (courseId: string) => `course:${courseId}`;

/** Staff with the course's live room open. */
export const staffRoom = (courseId: string) => `staff:${courseId}`;
