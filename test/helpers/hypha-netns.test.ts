// Self-tests of the reroute measurement: how an outage is read from `ping -D` output.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { outageFrom, parsePingReplies } from './hypha-netns.ts';

const OUTPUT = `PING 5a1::1(5a1::1) 56 data bytes
[1000.000000] 64 bytes from 5a1::1: icmp_seq=1 ttl=64 time=0.500 ms
[1000.200000] 64 bytes from 5a1::1: icmp_seq=2 ttl=64 time=0.400 ms
[1000.400000] 64 bytes from 5a1::1: icmp_seq=3 ttl=64 time=150 ms
From 5a1::1 icmp_seq=4 Destination unreachable: No route
[1001.500000] 64 bytes from 5a1::1: icmp_seq=9 ttl=64 time=100 ms
[1001.600000] 64 bytes from 5a1::1: icmp_seq=10 ttl=64 time=0.300 ms
`;

test('ping -D replies are parsed with their send and arrival times; other lines are ignored', () => {
  const r = parsePingReplies(OUTPUT);
  assert.deepEqual(r.map((x) => x.seq), [1, 2, 3, 9, 10]);
  assert.equal(r[2].atMs, 1_000_400);
  assert.equal(r[2].sentAtMs, 1_000_250);
});

test('the outage runs from the cut to the sending of the first request answered after it', () => {
  // Cut at 1000.300: seq 3 was sent at 1000.250 (before the cut) and answered late; seqs 4–8 were lost.
  const o = outageFrom(parsePingReplies(OUTPUT), 1_000_300);
  assert.equal(o.outageMs, 1_100);
  assert.equal(o.gapMs, 1_100);
  assert.equal(o.lostPings, 5);
  assert.throws(() => outageFrom(parsePingReplies(OUTPUT), 1_002_000), /no ping reply/);
});
