// The simulator's public API (see README, "Simulator and benchmarks").
export { Rng, type Seed } from './random.ts';
export { IdentityCache, simIdentitySeed } from './identities.ts';
export {
  adjacency,
  barabasiAlbert,
  bfs,
  degrees,
  describe,
  diameter,
  grid,
  isConnected,
  line,
  randomConnected,
  randomGeometric,
  ring,
  type Topology,
} from './topology.ts';
export {
  DEFAULT_DIAL_TIMEOUT_MS,
  DEFAULT_WIRE,
  MYCELIUM_RECONNECT_INTERVAL_MS,
  SimNetwork,
  SimNode,
  type LinkKind,
  type NodeState,
  type SimNetworkOptions,
  type SimNodeParts,
  type WireProfile,
} from './network.ts';
export { NEVER_MS, nativeOverlayBridge, type NativeOverlayHook, type SimNodeContext } from './parts.ts';
export { PairProber, ProbeDevice, parseProbe, probePacket, samplePairs, type ProbeArrival } from './probe.ts';
export { GOSSIP_PROBE_MSG_TYPE, GossipProbe, roundsTo, timeTo, type GossipSpread } from './gossip-probe.ts';
export { CONTROL_KINDS, TRAFFIC_KINDS, TrafficClassifier, TrafficCounters, envelopeMsgType, type TrafficKind, type TrafficSnapshot } from './traffic.ts';
