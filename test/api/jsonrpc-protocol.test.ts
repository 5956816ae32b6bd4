// JSON-RPC 2.0 envelope handling without a transport: parse errors, invalid requests, unknown methods,
// parameters by position and by name, notifications and batches, as the specification says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handleRpcText, rpcOk, type RpcDispatcher, type RpcMethod } from '../../src/api/jsonrpc/protocol.ts';

const num = (name: string, required: boolean) => ({
  name,
  required,
  schema: { type: 'integer' },
  decode: (v: unknown) => (typeof v === 'number' && Number.isInteger(v) ? { ok: true as const, value: v } : { ok: false as const, message: `must be an integer, got ${JSON.stringify(v)}` }),
});

const methods: RpcMethod[] = [
  { name: 'add', summary: 'a + b', params: [num('a', true), { ...num('b', false), aliases: ['second'] }], result: { name: 'sum', schema: { type: 'integer' } }, handler: ([a, b]) => rpcOk((a as number) + ((b as number | undefined) ?? 0)) },
  { name: 'boom', summary: 'throws', params: [], result: { name: 'x', schema: {} }, handler: () => { throw new Error('bug'); } },
  { name: 'slow', summary: 'waits', params: [], result: { name: 'x', schema: {} }, handler: async () => { await new Promise((r) => setTimeout(r, 50)); return rpcOk('slow'); } },
];
const internal: string[] = [];
const d: RpcDispatcher = { methods: new Map(methods.map((m) => [m.name, m])), onInternalError: (name) => internal.push(name) };
const ctx = { signal: new AbortController().signal };
const rpc = async (text: string): Promise<unknown> => {
  const out = await handleRpcText(d, text, ctx);
  return out === undefined ? undefined : JSON.parse(out);
};
const req = (method: string, params?: unknown, id: unknown = 1) => JSON.stringify({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }), id });

test('results by position and by name; the id comes back as given', async () => {
  assert.deepEqual(await rpc(req('add', [1, 2])), { jsonrpc: '2.0', id: 1, result: 3 });
  assert.deepEqual(await rpc(req('add', [1])), { jsonrpc: '2.0', id: 1, result: 1 });
  assert.deepEqual(await rpc(req('add', [1, null])), { jsonrpc: '2.0', id: 1, result: 1 }, 'null is an absent optional');
  assert.deepEqual(await rpc(req('add', { a: 5, b: 6 }, 'x')), { jsonrpc: '2.0', id: 'x', result: 11 });
  assert.deepEqual(await rpc(req('add', { a: 5, second: 1 }, null)), { jsonrpc: '2.0', id: null, result: 6 });
});

test('errors: -32700, -32600, -32601, -32602, -32603, each with a message saying what is wrong', async () => {
  const code = async (text: string) => (await rpc(text)) as { id: unknown; error: { code: number; message: string } };
  const parse = await code('{"jsonrpc": "2.0", "method": ');
  assert.equal(parse.error.code, -32700);
  assert.equal(parse.id, null);
  assert.match(parse.error.message, /not JSON/);
  for (const [text, message] of [
    ['5', /expected an object/],
    ['"x"', /expected an object/],
    ['{"jsonrpc":"1.0","method":"add","id":1}', /"jsonrpc" must be "2.0"/],
    ['{"method":"add","id":1}', /"jsonrpc" must be "2.0", got nothing/],
    ['{"jsonrpc":"2.0","method":5,"id":1}', /"method" must be a string/],
    ['{"jsonrpc":"2.0","method":"add","params":5,"id":1}', /"params" must be an array or an object/],
    ['{"jsonrpc":"2.0","method":"add","params":[1],"id":{}}', /"id" must be a string, a number or null/],
    ['[]', /empty batch/],
  ] as const) {
    const r = await code(text);
    assert.equal(r.error.code, -32600, text);
    assert.match(r.error.message, message, text);
  }
  assert.deepEqual((await code(req('nope'))).error, { code: -32601, message: 'method not found: "nope" (rpc.discover lists the methods)' });
  assert.equal((await code(req('__proto__'))).error.code, -32601);
  for (const [params, message] of [
    [[], /missing parameter "a" \(position 0\): add\(a, b\?\)/],
    [[1, 2, 3], /add takes at most 2: add\(a, b\?\), got 3/],
    [['1'], /parameter "a": must be an integer, got "1"/],
    [{ a: 1, c: 2 }, /add has no parameter "c": add\(a, b\?\)/],
    [{ a: 1, b: 2, second: 3 }, /parameter "b" is given twice/],
    [{ a: null }, /parameter "a": must be an integer, got null/],
  ] as const) {
    const r = await code(req('add', params));
    assert.equal(r.error.code, -32602, JSON.stringify(params));
    assert.match(r.error.message, message);
  }
  const boom = await code(req('boom'));
  assert.equal(boom.error.code, -32603);
  assert.deepEqual(internal, ['boom']);
});

test('notifications get no answer; batches answer every call that has an id, concurrently', async () => {
  assert.equal(await rpc('{"jsonrpc":"2.0","method":"add","params":[1]}'), undefined);
  assert.equal(await rpc('{"jsonrpc":"2.0","method":"nope"}'), undefined, 'not even an error');
  assert.equal(await rpc('[{"jsonrpc":"2.0","method":"add","params":[1]}]'), undefined);
  const batch = (await rpc(JSON.stringify([
    { jsonrpc: '2.0', method: 'slow', id: 1 },
    { jsonrpc: '2.0', method: 'add', params: [2, 2], id: 2 },
    { jsonrpc: '2.0', method: 'add', params: [2, 2] },
    { jsonrpc: '2.0', method: 'nope', id: 3 },
    7,
  ]))) as { id: unknown; result?: unknown; error?: { code: number } }[];
  assert.deepEqual(batch.map((r) => [r.id, r.result ?? r.error?.code]), [[1, 'slow'], [2, 4], [3, -32601], [null, -32600]]);
  const tooMany = (await rpc(JSON.stringify(new Array(257).fill({ jsonrpc: '2.0', method: 'add', params: [1], id: 1 })))) as { error: { code: number; message: string } };
  assert.equal(tooMany.error.code, -32600);
  assert.match(tooMany.error.message, /at most 256/);
});
