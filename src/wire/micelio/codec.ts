// Protobuf decoding that returns a Result instead of throwing. protobuf-es checks every length
// against the input before it allocates, rejects invalid UTF-8 in strings (as Go's proto3 does) and
// keeps unknown fields, so a relay re-emits what it does not understand.
import { fromBinary, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { err, ok, type Result } from '../../base/result.ts';

export function decodeMessage<D extends DescMessage>(schema: D, bytes: Uint8Array): Result<MessageShape<D>> {
  try {
    return ok(fromBinary(schema, bytes, { readUnknownFields: true }));
  } catch (e) {
    return err('malformed', `malformed ${schema.name}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export function encodeMessage<D extends DescMessage>(schema: D, msg: MessageShape<D>): Uint8Array {
  return toBinary(schema, msg);
}
