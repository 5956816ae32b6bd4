// The peer table persisted in a store bucket (LMDB in a node, memory in the simulator). Records are kept
// as Micelio's JSON value, so a dump of the bucket reads like Micelio's bbolt `peers` bucket.
import type { Logger } from '../base/log.ts';
import type { Bucket, BucketSpec, Store } from '../store/store.ts';
import { decodePeerRecordJson, encodePeerRecordJson, type PeerRecord, type PeerStore } from './store.ts';

export const PEERS_BUCKET = 'peers';

/** The value is Micelio's JSON text itself; decoding and validation happen in decodePeerRecordJson. */
const PEER_JSON_BUCKET: BucketSpec<string> = {
  name: PEERS_BUCKET,
  codec: {
    encoding: 'json',
    encode: (text) => Buffer.from(text, 'utf8'),
    decode: (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
  },
};

export class BucketPeerStore implements PeerStore {
  private readonly bucket: Bucket<string>;
  private readonly logger: Logger;

  constructor(store: Store, logger: Logger) {
    this.bucket = store.bucket(PEER_JSON_BUCKET);
    this.logger = logger;
  }

  loadAll(): PeerRecord[] {
    const out: PeerRecord[] = [];
    for (const [key, json] of this.bucket.entries()) {
      const rec = decodePeerRecordJson(json);
      if (rec.ok && rec.value.nodeId === key) out.push(rec.value);
      // A damaged record costs one peer, never the start-up.
      else this.logger.warn({ key, reason: rec.ok ? 'key does not match node_id' : rec.error.message }, 'skipping invalid stored peer record');
    }
    return out;
  }

  put(r: PeerRecord): Promise<void> {
    return this.bucket.put(r.nodeId, encodePeerRecordJson(r));
  }

  delete(nodeId: string): Promise<void> {
    return this.bucket.delete(nodeId);
  }
}
