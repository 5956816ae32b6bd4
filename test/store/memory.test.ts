import { MemoryBacking, MemoryStore } from '../../src/store/memory.ts';
import { storeSuite } from './suite.ts';

storeSuite('memory', async () => {
  const backing = new MemoryBacking();
  return { open: () => new MemoryStore(backing), cleanup: async () => undefined };
});
