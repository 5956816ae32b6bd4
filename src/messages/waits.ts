// How long the message bus waits, in a module of its own: the CLI's help text shows these without loading
// the bus.

/** Mycelium's fixed send window, used when the caller gives no deadline. */
export const DEFAULT_DEADLINE_MS = 5 * 60 * 1000;
/** Longest deadline, reply wait or pop wait a caller may ask for. */
export const MAX_WAIT_MS = 24 * 60 * 60 * 1000;
