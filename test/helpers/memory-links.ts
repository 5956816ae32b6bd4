// A LinkFactory over in-memory wires, so the peer manager runs on a VirtualClock in tests (and, in
// the same way, in the simulator). Addresses look like real ones (10.0.0.N:4000) so the peer-exchange
// address rules apply unchanged.
import type { Clock } from '../../src/base/clock.ts';
import { err, ok, type Result } from '../../src/base/result.ts';
import type { AcceptHandlers, Link, LinkError, LinkFactory, LinkListener } from '../../src/link/link.ts';
import { MemoryWire } from '../../src/link/memory.ts';

export class MemoryNetwork {
  readonly clock: Clock;
  readonly listeners = new Map<string, { handlers: AcceptHandlers; staticKey: Uint8Array }>();
  readonly wires: MemoryWire[] = [];
  /** Every dial attempted, with the clock time: tests read backoff schedules from it. */
  readonly dials: { from: string; to: string; atMs: number }[] = [];
  /** One-way latency of the wire a dial creates, by dialler name and dialled address (default 0). */
  latency: (from: string, to: string) => number = () => 0;
  private nextHost = 1;
  /** While set, a dial from `from` (factory name) to `to` (address) is refused, as across a partition. */
  blocked: ((from: string, to: string) => boolean) | undefined;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  factory(name: string, staticKey: Uint8Array): LinkFactory {
    return MemoryNetwork.factoryOf(this, name, staticKey);
  }

  private static factoryOf(net: MemoryNetwork, name: string, staticKey: Uint8Array): LinkFactory {
    return {
      dial(address: string): Promise<Result<Link, LinkError>> {
        net.dials.push({ from: name, to: address, atMs: net.clock.now() });
        const l = net.listeners.get(address);
        if (!l || net.blocked?.(name, address)) return Promise.resolve(err('dial-failed', `dial ${address}: connection refused`));
        const refusal = l.handlers.preCheck?.(`mem:${name}`);
        if (refusal !== undefined) return Promise.resolve(err('handshake-failed', `${address}: connection closed during noise handshake`));
        const wire = new MemoryWire(net.clock, { protocol: 'native', latencyMs: net.latency(name, address), staticA: staticKey, staticB: l.staticKey, nameA: name, nameB: address });
        net.wires.push(wire);
        l.handlers.onLink(wire.b);
        return Promise.resolve(ok(wire.a));
      },
      listen(address: string, handlers: AcceptHandlers): Promise<Result<LinkListener, LinkError>> {
        const addr = address.endsWith(':0') ? `10.0.0.${net.nextHost++}:4000` : address;
        net.listeners.set(addr, { handlers, staticKey });
        const [host, port] = [addr.slice(0, addr.lastIndexOf(':')), Number(addr.slice(addr.lastIndexOf(':') + 1))];
        return Promise.resolve(ok({ address: addr, host, port, close: async () => void net.listeners.delete(addr) }));
      },
      close: async () => {},
    };
  }

  /** The wire between the nodes listening at / named `a` and `b`, either direction. */
  wireBetween(a: string, b: string): MemoryWire | undefined {
    return this.wires.find((w) => !w.a.closed && ((w.a.localAddress === `mem:${a}` && w.a.remoteAddress === `mem:${b}`) || (w.a.localAddress === `mem:${b}` && w.a.remoteAddress === `mem:${a}`)));
  }
}
