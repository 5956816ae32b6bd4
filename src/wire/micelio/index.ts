// The Micelio wire: frames, envelopes and the generated message schemas, in one import.
export * from './frame.ts';
export * from './envelope.ts';
export * from './codec.ts';
export * from '../gen/micelio_pb.ts';
export * from './chat.ts';
export * from './overlay.ts';
