// The partyline's state commands: /state, /get, /set, /del (Micelio phase-5 texts, with short node ids
// and readable times), /tags and /desired. Registered by the composition root when the node has a state
// service.
import { shortId } from '../identity/identity.ts';
import { StateError, type StateItem, type StateService } from '../state/service.ts';
import type { DesiredState } from '../state/desired.ts';
import type { CommandContext, CommandRegistry } from './commands.ts';
import { displayKey, displayValue } from './state-display.ts';

export { displayKey, displayValue };

/** Lines /state prints before it says how many more there are. */
export const MAX_STATE_LINES = 200;

const utf8 = new TextDecoder('utf-8', { fatal: true });
function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function meta(item: StateItem): string {
  return `ts=${item.ts} node=${shortId(item.owner)} at ${isoTime(item.writtenAtMs)}`;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function fail(ctx: CommandContext, e: unknown): void {
  ctx.write(`Error: ${e instanceof StateError || e instanceof Error ? e.message : String(e)}`);
}

export interface StateCommandDeps {
  state: StateService;
  desired?: DesiredState;
}

export function registerStateCommands(registry: CommandRegistry, deps: StateCommandDeps): void {
  const { state, desired } = deps;

  registry.register('/state', {
    usage: '/state [prefix]',
    help: 'list the replicated state (optionally keys or subkeys starting with prefix)',
    handler: (ctx) => {
      const prefix = ctx.args[0] ?? '';
      const items = state.list().filter((i) => prefix === '' || i.key.startsWith(prefix) || i.subkey.startsWith(prefix) || displayKey(i).startsWith(prefix));
      if (items.length === 0) {
        ctx.write(prefix === '' ? 'State: (empty)' : `State: nothing under ${prefix}`);
        return;
      }
      const owners = new Set(items.map((i) => i.owner)).size;
      ctx.write(`State (${items.length} ${items.length === 1 ? 'entry' : 'entries'} from ${owners} ${owners === 1 ? 'node' : 'nodes'}):`);
      for (const i of items.slice(0, MAX_STATE_LINES)) ctx.write(`  ${pad(displayKey(i), 20)} = ${displayValue(i.value)}  (${meta(i)})`);
      if (items.length > MAX_STATE_LINES) ctx.write(`  … and ${items.length - MAX_STATE_LINES} more (narrow it: /state <prefix>)`);
    },
  });

  registry.register('/get', {
    usage: '/get <key>',
    help: 'show one key (a key without a node id is this node\'s)',
    handler: (ctx) => {
      const key = ctx.args[0];
      if (key === undefined) {
        ctx.write('Usage: /get <key>');
        return;
      }
      const item = state.getEntry(key);
      if (!item) ctx.write(`${key}: not found`);
      else if (item.deleted) ctx.write(`${key}: deleted (${meta(item)})`);
      else ctx.write(`${displayKey(item)} = ${displayValue(item.value)}  (${meta(item)})`);
    },
  });

  registry.register('/set', {
    usage: '/set <key> <value>',
    help: 'set a key of this node (the value is the rest of the line)',
    handler: async (ctx) => {
      const key = ctx.args[0];
      if (key === undefined || ctx.args.length < 2) {
        ctx.write('Usage: /set <key> <value>');
        return;
      }
      const value = ctx.rest.slice(ctx.rest.indexOf(key) + key.length).trim();
      try {
        const item = await state.put(key, value);
        ctx.write(`Set ${displayKey(item)} = ${displayValue(item.value)} (ts=${item.ts})`);
      } catch (e) {
        fail(ctx, e);
      }
    },
  });

  registry.register('/del', {
    usage: '/del <key>',
    help: 'delete a key of this node',
    handler: async (ctx) => {
      const key = ctx.args[0];
      if (key === undefined) {
        ctx.write('Usage: /del <key>');
        return;
      }
      try {
        const item = await state.delete(key);
        ctx.write(item ? `Deleted ${displayKey(item)} (ts=${item.ts})` : `${key}: not found`);
      } catch (e) {
        fail(ctx, e);
      }
    },
  });

  registry.register('/tags', {
    usage: '/tags',
    help: 'this node\'s tags and those other nodes publish',
    handler: (ctx) => {
      const own = state.ownTags;
      ctx.write(`Tags of this node: ${own.length === 0 ? '(none)' : own.join(', ')}`);
      const others = state.list({ prefix: '' }).filter((i) => i.subkey === '_tags' && i.owner !== state.nodeId);
      if (others.length === 0) return;
      ctx.write(`Other nodes (${others.length}):`);
      for (const i of others) {
        let tags: string;
        try {
          const v = JSON.parse(utf8.decode(i.value)) as unknown;
          tags = Array.isArray(v) ? (v.length === 0 ? '(none)' : v.map(String).join(', ')) : displayValue(i.value);
        } catch {
          tags = displayValue(i.value);
        }
        ctx.write(`  ${shortId(i.owner)}  ${displayValue(new TextEncoder().encode(tags))}`);
      }
    },
  });

  registry.register('/desired', {
    usage: '/desired',
    help: 'effective desired state of this node, and who converged to published desired state',
    handler: (ctx) => {
      if (!desired) {
        ctx.write('Desired state: not enabled on this node');
        return;
      }
      const ctrl = [...desired.controllers].map(shortId);
      ctx.write(`Desired state of this node (tags: ${desired.tags.join(', ') || 'none'}; controllers: ${ctrl.join(', ') || 'none'}):`);
      const eff = desired.effective();
      if (eff.length === 0) ctx.write('  (nothing)');
      for (const d of eff) {
        const obs = desired.observation(state.nodeId, d.name);
        const done = obs && obs.desiredKey === d.key && obs.desiredTs === d.ts ? 'observed' : 'not yet observed';
        ctx.write(`  ${pad(d.name, 16)} = ${displayValue(d.value)}  (from ${shortId(d.controller)} selector ${d.selector.text}, ts=${d.ts}, ${done})`);
      }
      const all = desired.allDesired();
      if (all.length === 0) return;
      ctx.write(`Published desired state (${all.length}):`);
      for (const d of all) {
        const c = desired.convergence(d);
        const pending = c.pending.length === 0 ? '' : ` — pending: ${c.pending.slice(0, 8).map(shortId).join(', ')}${c.pending.length > 8 ? ', …' : ''}`;
        ctx.write(`  ${shortId(d.controller)}/desired/${d.selector.text}/${d.name} = ${displayValue(d.value)}  converged ${c.converged.length}/${c.targets.length}${pending}`);
      }
    },
  });
}
