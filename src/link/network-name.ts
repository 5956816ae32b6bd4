// Limits of a private network's name (Mycelium's, reference §5), apart from the TLS transport that uses
// them, so the config schema can check a name without loading node:tls and the stream link.

export const NETWORK_NAME_MIN_BYTES = 2;
export const NETWORK_NAME_MAX_BYTES = 64;
