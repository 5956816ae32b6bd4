// A minimal typed event hub. A throwing listener is logged and skipped, so one consumer can never
// break the link loop that emitted the event.
import type { Logger } from '../base/log.ts';

export class Emitter<E extends { [K in keyof E]: unknown[] }> {
  // Listeners are stored untyped; on() and emit() are the typed doors.
  private readonly listeners = new Map<keyof E, Set<(...args: unknown[]) => void>>();
  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = log;
  }

  /** Subscribes; returns the function that unsubscribes. */
  on<K extends keyof E>(event: K, fn: (...args: E[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    const f = fn as unknown as (...args: unknown[]) => void;
    set.add(f);
    return () => set.delete(f);
  }

  emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const fn of set) {
      try {
        fn(...args);
      } catch (e) {
        this.log.error({ event: String(event), err: e instanceof Error ? e.message : String(e) }, 'event listener threw');
      }
    }
  }

  listenerCount(event: keyof E): number {
    return this.listeners.get(event)?.size ?? 0;
  }
}
