// Flags that keep a test node off the host's shared resources: no TUN device (as root one would be created
// in the test's namespace), the Mycelium listener on a free port, no discovery on UDP 9650, no HTTP API, no JSON-RPC.
import type { FlagValue } from '../../src/config/load.ts';

export const QUIET_OVERLAY: Readonly<Record<string, FlagValue>> = Object.freeze({
  no_tun: true,
  tcp_listen_port: '0',
  disable_peer_discovery: true,
  api_addr: '',
  jsonrpc_addr: '',
});

/** The same as command-line arguments for `hypha run`. */
export const QUIET_OVERLAY_ARGS: readonly string[] = Object.freeze(['--no-tun', '-t', '0', '--disable-peer-discovery', '--api-addr', '', '--jsonrpc-addr', '']);
